/*
 * The MPS2 boards in QEMU (AN385 Cortex-M3, AN386 Cortex-M4F, AN505 Cortex-M33): UART0 at
 * KILN_MPS2_UART0, CMSDK timer 1 at KILN_MPS2_TIMER1, SysTick at the CPU clock KILN_MPS2_CPU_HZ.
 * The three differ only in these addresses and the clock (set by each board's platform.properties)
 * and in their linker scripts.
 */
#include <stdint.h>

#include "cmsdk_uart.h"
#include "cortex_m.h"
#include "kiln_board.h"
#include "kiln_mcu.h"

#ifndef KILN_MPS2_UART0
#error "define KILN_MPS2_UART0 (UART0 base address) in the board's cflags"
#endif
#ifndef KILN_MPS2_TIMER1
#error "define KILN_MPS2_TIMER1 (CMSDK timer 1 base address) in the board's cflags"
#endif
#ifndef KILN_MPS2_CPU_HZ
#error "define KILN_MPS2_CPU_HZ (CPU and peripheral clock) in the board's cflags"
#endif

void kiln_board_init(void) {
  kiln_cortex_m_timer_start(KILN_MPS2_CPU_HZ);
  kiln_cmsdk_uart_init(KILN_MPS2_UART0, KILN_MPS2_CPU_HZ, 115200u);
  /* QEMU's UART model does not tell the main loop that RX was enabled; re-arming a modelled timer
   * wakes it (qemu-cortex-m.md §8). Timer 1 VALUE, one write. */
  *(volatile uint32_t *)(KILN_MPS2_TIMER1 + 0x4u) = 0xFFFFFFu;
}

void kiln_board_uart_write(uint8_t byte) { kiln_cmsdk_uart_write(KILN_MPS2_UART0, byte); }

uint8_t kiln_board_uart_read(void) { return kiln_cmsdk_uart_read(KILN_MPS2_UART0); }

uint64_t kiln_board_time_ns(void) { return kiln_cortex_m_time_ns(); }

void kiln_board_stop(int32_t code, const char *reason) {
  (void)code;
  (void)reason;
  kiln_cmsdk_uart_drain(KILN_MPS2_UART0);
  kiln_mcu_linger();
  kiln_cortex_m_semihost_exit(3u);
}
