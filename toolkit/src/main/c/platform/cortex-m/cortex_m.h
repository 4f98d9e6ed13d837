/* Cortex-M system registers the Kiln platforms use (ARMv6-M, ARMv7-M and ARMv8-M have them all). */
#ifndef KILN_CORTEX_M_H
#define KILN_CORTEX_M_H

#include <stdint.h>

#define KILN_REG(addr) (*(volatile uint32_t *)(addr))

#define SYST_CSR KILN_REG(0xE000E010u)
#define SYST_RVR KILN_REG(0xE000E014u)
#define SYST_CVR KILN_REG(0xE000E018u)
#define SCB_CPACR KILN_REG(0xE000ED88u)
#define SCB_CFSR KILN_REG(0xE000ED28u)
#define SCB_HFSR KILN_REG(0xE000ED2Cu)

/* SysTick at the CPU clock with its wrap interrupt: kiln_cortex_m_time_ns counts wraps. */
void kiln_cortex_m_timer_start(uint32_t cpu_hz);
uint64_t kiln_cortex_m_time_ns(void);

/* Semihosting SYS_EXIT_EXTENDED: QEMU started with -semihosting-config enable=on exits with code.
 * On a board without a debugger attached this would fault; only QEMU boards call it. */
void kiln_cortex_m_semihost_exit(uint32_t code);

#endif /* KILN_CORTEX_M_H */
