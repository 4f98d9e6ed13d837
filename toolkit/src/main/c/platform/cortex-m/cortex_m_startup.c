/*
 * Cortex-M start-up shared by every Arm board: the vector table (placed first in flash by the
 * board's linker script, section .vectors), the reset handler (copies .data, zeroes .bss, enables
 * the FPU when the build uses one, calls main) and fault handlers that report the fault registers
 * to the host as an abort log. Board interrupts (UARTs) are not used: the platform polls.
 */
#include <stdint.h>

#include "cortex_m.h"
#include "kiln_mcu.h"

extern uint32_t __kiln_data_load, __kiln_data_start, __kiln_data_end, __kiln_bss_start, __kiln_bss_end;
extern uint32_t __kiln_stack_top;
int main(void);
void kiln_cortex_m_reset(void);
void kiln_cortex_m_fault(void);
void kiln_cortex_m_systick(void);
void kiln_cortex_m_unexpected(void);

typedef void (*kiln_vector)(void);

/* 16 system entries; the stack pointer goes in entry 0 as an address. */
__attribute__((section(".vectors"), used)) const kiln_vector kiln_cortex_m_vectors[16] = {
    (kiln_vector)(uintptr_t)&__kiln_stack_top,
    kiln_cortex_m_reset,
    kiln_cortex_m_unexpected, /* NMI */
    kiln_cortex_m_fault,      /* HardFault */
    kiln_cortex_m_fault,      /* MemManage */
    kiln_cortex_m_fault,      /* BusFault */
    kiln_cortex_m_fault,      /* UsageFault */
    kiln_cortex_m_fault,      /* SecureFault (ARMv8-M) */
    0,
    0,
    0,
    kiln_cortex_m_unexpected, /* SVCall */
    kiln_cortex_m_unexpected, /* DebugMonitor */
    0,
    kiln_cortex_m_unexpected, /* PendSV */
    kiln_cortex_m_systick,    /* SysTick */
};

void kiln_cortex_m_reset(void) {
  uint32_t *src = &__kiln_data_load;
  uint32_t *dst = &__kiln_data_start;
  while (dst < &__kiln_data_end) *dst++ = *src++;
  for (dst = &__kiln_bss_start; dst < &__kiln_bss_end;) *dst++ = 0;
#if defined(__ARM_FP)
  SCB_CPACR |= 0xFu << 20; /* CP10 and CP11: full access, before the first FP instruction */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  (void)main();
  for (;;) {
  }
}

static char hex_digit(uint32_t v) { return (char)(v < 10 ? '0' + v : 'a' + (v - 10)); }

static char *put_hex(char *p, uint32_t v) {
  int shift;
  *p++ = '0';
  *p++ = 'x';
  for (shift = 28; shift >= 0; shift -= 4) *p++ = hex_digit((v >> shift) & 0xFu);
  return p;
}

/* Formats without printf (a fault may come from inside it). */
void kiln_cortex_m_fault(void) {
  static const char kFault[] = "CPU fault (HardFault/MemManage/BusFault/UsageFault): CFSR ";
  char text[96];
  char *p = text;
  const char *s;
  for (s = kFault; *s != '\0'; ++s) *p++ = *s;
  p = put_hex(p, SCB_CFSR);
  for (s = ", HFSR "; *s != '\0'; ++s) *p++ = *s;
  p = put_hex(p, SCB_HFSR);
  *p = '\0';
  kiln_mcu_fault(text);
}

void kiln_cortex_m_unexpected(void) { kiln_mcu_fault("unexpected exception (NMI, SVC, PendSV or DebugMonitor)"); }
