/*
 * Time from SysTick at the CPU clock: 24-bit down counter, reload 0xFFFFFF, the wrap interrupt
 * counts wraps. Under QEMU -icount the CPU clock is virtual: shift S makes every instruction
 * 2^S ns, so the figures are deterministic instruction counts (shared/docs/qemu-cortex-m.md §5).
 * The wrap interrupt also keeps QEMU's main loop polling the UART from boot (§8's start-up race).
 */
#include <stdint.h>

#include "cortex_m.h"

/* Written by the SysTick handler, read by time_ns: the one piece of state an interrupt needs. */
volatile uint32_t kiln_cortex_m_wraps;
static uint32_t ns_per_tick_x16;

/* Exactly KILN_SYSTICK_HANDLER_INSTRUCTIONS instructions (on every Cortex-M profile), so that under
 * QEMU -icount their cost can be taken out of measured intervals: counts stay exact and the same
 * whether or not a wrap falls inside the interval. */
#define KILN_SYSTICK_HANDLER_INSTRUCTIONS 5u
__attribute__((naked)) void kiln_cortex_m_systick(void) {
  __asm__ volatile(
      "ldr r0, =kiln_cortex_m_wraps\n\t"
      "ldr r1, [r0]\n\t"
      "add r1, r1, #1\n\t" /* valid in the divided syntax GCC uses for Thumb-1 inline asm and in unified syntax */
      "str r1, [r0]\n\t"
      "bx lr\n\t"
      ".ltorg");
}

void kiln_cortex_m_timer_start(uint32_t cpu_hz) {
  ns_per_tick_x16 = (uint32_t)(16000000000ull / cpu_hz); /* 25 MHz: 640; 16 MHz: 1000; 20 MHz: 800 */
  SYST_CSR = 0;
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 0x7u; /* CPU clock, interrupt, enable */
}

uint64_t kiln_cortex_m_time_ns(void) {
  uint32_t w1, w2, v;
  do {
    w1 = kiln_cortex_m_wraps;
    v = SYST_CVR;
    w2 = kiln_cortex_m_wraps;
  } while (w1 != w2);
  /* A wrap between the two reads of `wraps` is taken at once (the CVR read ends QEMU's
   * translation block), so equal reads bracket a consistent (wraps, CVR) pair. */
  {
    uint64_t ticks = ((uint64_t)w1 << 24) + (uint64_t)(0x00FFFFFFu - v);
    uint64_t ns = (ticks * ns_per_tick_x16) >> 4;
#if defined(KILN_QEMU_ICOUNT_SHIFT)
    /* QEMU -icount: every instruction is 2^shift ns; the wrap handlers' instructions are not the
     * program's. (The build for a QEMU board passes the shift it runs with.) */
    ns -= ((uint64_t)w1 * KILN_SYSTICK_HANDLER_INSTRUCTIONS) << KILN_QEMU_ICOUNT_SHIFT;
#endif
    return ns;
  }
}

void kiln_cortex_m_semihost_exit(uint32_t code) {
  /* SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code} */
  volatile uint32_t block[2];
  block[0] = 0x20026u;
  block[1] = code;
  __asm__ volatile("mov r0, %0\n\tmov r1, %1\n\tbkpt 0xab" : : "r"(0x20u), "r"(block) : "r0", "r1", "memory");
}
