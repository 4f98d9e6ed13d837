/*
 * QEMU's riscv32 "virt" machine with an RV32IMAC program in machine mode (-bios none: the reset
 * ROM jumps to 0x80000000): NS16550A UART at 0x10000000 (16-byte FIFOs), the clock from the mcycle
 * counter (under -icount QEMU makes it the virtual clock in ns, i.e. instructions << shift), and
 * QEMU's test device at 0x100000 to exit with a status.
 */
#include <stdint.h>

#include "kiln_board.h"
#include "kiln_mcu.h"

#define REG8(a) (*(volatile uint8_t *)(a))
#define UART 0x10000000u
#define UART_RBR REG8(UART + 0u)
#define UART_THR REG8(UART + 0u)
#define UART_IER REG8(UART + 1u)
#define UART_FCR REG8(UART + 2u)
#define UART_LCR REG8(UART + 3u)
#define UART_LSR REG8(UART + 5u)
#define LSR_DR 0x01u
#define LSR_THRE 0x20u
#define TEST_DEVICE (*(volatile uint32_t *)0x00100000u)
#define CLINT_MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define CLINT_MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define CLINT_MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define CLINT_MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)
/* 1 ms of the CLINT's 10 MHz timebase */
#define WAKE_TICKS 10000u

extern uint32_t __kiln_data_load, __kiln_data_start, __kiln_data_end, __kiln_bss_start, __kiln_bss_end;
int main(void);
void kiln_riscv_start(void);
void kiln_riscv_trap(void);

/* CSR access: Debian's GCC 12 targets rv32imac, its assembler wants zicsr named for csrr/csrw. */
#define KILN_CSRR(name, out) \
  __asm__ volatile(".option push\n\t.option arch, +zicsr\n\tcsrr %0, " name "\n\t.option pop" : "=r"(out))

/* Entry at 0x80000000: stack, global pointer, trap vector, then C. */
__attribute__((naked, section(".vectors"))) void kiln_riscv_entry(void) {
  __asm__ volatile(
      ".option push\n\t.option norelax\n\tla gp, __global_pointer$\n\t.option pop\n\t"
      "la sp, __kiln_stack_top\n\t"
      "la t0, kiln_riscv_trap\n\t.option push\n\t.option arch, +zicsr\n\tcsrw mtvec, t0\n\t.option pop\n\t"
      "j kiln_riscv_start");
}

void kiln_riscv_start(void) {
  uint32_t *src = &__kiln_data_load;
  uint32_t *dst = &__kiln_data_start;
  while (dst < &__kiln_data_end) *dst++ = *src++;
  for (dst = &__kiln_bss_start; dst < &__kiln_bss_end;) *dst++ = 0;
  (void)main();
  for (;;) {
  }
}

static char *put_hex(char *p, uint32_t v) {
  int shift;
  *p++ = '0';
  *p++ = 'x';
  for (shift = 28; shift >= 0; shift -= 4) {
    uint32_t d = (v >> shift) & 0xFu;
    *p++ = (char)(d < 10 ? '0' + d : 'a' + (d - 10));
  }
  return p;
}

/* Any trap (no interrupts are enabled) is a fault: report mcause and mepc to the host and stop.
 * It never returns, so an ordinary function on the faulting stack does. */
__attribute__((aligned(4))) void kiln_riscv_trap(void) {
  static const char kTrap[] = "CPU trap: mcause ";
  char text[64];
  char *p = text;
  const char *s;
  uint32_t cause, epc;
  KILN_CSRR("mcause", cause);
  KILN_CSRR("mepc", epc);
  for (s = kTrap; *s != '\0'; ++s) *p++ = *s;
  p = put_hex(p, cause);
  for (s = ", mepc "; *s != '\0'; ++s) *p++ = *s;
  p = put_hex(p, epc);
  *p = '\0';
  kiln_mcu_fault(text);
}

void kiln_board_init(void) {
  UART_IER = 0;
  UART_LCR = 0x03u; /* 8N1 */
  UART_FCR = 0x07u; /* FIFOs on and cleared */
}

void kiln_board_uart_write(uint8_t byte) {
  while ((UART_LSR & LSR_THRE) == 0) {
  }
  UART_THR = byte;
}

/*
 * Under -icount QEMU runs the CPU until the next virtual-clock deadline before its main loop looks at
 * the UART's host side; with no timer armed that can be never (the MPS2 boards have their SysTick
 * interrupt). So while waiting for input, keep a CLINT compare armed 1 ms ahead: its deadline (no
 * interrupt is enabled, nothing runs) hands QEMU's main loop a turn. Not done while computing, so
 * measured intervals execute no extra instructions.
 */
static void arm_wake(void) {
  uint32_t hi, lo;
  uint64_t at;
  do {
    hi = CLINT_MTIME_HI;
    lo = CLINT_MTIME_LO;
  } while (hi != CLINT_MTIME_HI);
  at = (((uint64_t)hi << 32) | lo) + WAKE_TICKS;
  CLINT_MTIMECMP_HI = 0xFFFFFFFFu; /* no early match while the low word changes */
  CLINT_MTIMECMP_LO = (uint32_t)at;
  CLINT_MTIMECMP_HI = (uint32_t)(at >> 32);
}

uint8_t kiln_board_uart_read(void) {
  uint32_t armed_at = CLINT_MTIME_LO;
  arm_wake();
  while ((UART_LSR & LSR_DR) == 0) {
    uint32_t now = CLINT_MTIME_LO;
    if (now - armed_at >= WAKE_TICKS) {
      armed_at = now;
      arm_wake();
    }
  }
  return UART_RBR;
}

uint64_t kiln_board_time_ns(void) {
  uint32_t hi, lo, hi2;
  do {
    KILN_CSRR("mcycleh", hi);
    KILN_CSRR("mcycle", lo);
    KILN_CSRR("mcycleh", hi2);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

void kiln_board_stop(int32_t code, const char *reason) {
  (void)code;
  (void)reason;
  while ((UART_LSR & LSR_THRE) == 0) {
  }
  kiln_mcu_linger();
  TEST_DEVICE = (3u << 16) | 0x3333u; /* QEMU exits with status 3 */
}
