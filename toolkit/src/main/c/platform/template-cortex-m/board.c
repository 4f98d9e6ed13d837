/*
 * Your board: fill in the five hooks of kiln_board.h (see ../../README.md), then delete the #error.
 * The shared main (../common/kiln_mcu_main.c) serves the Kiln runtime over the UART these hooks
 * drive; ../common/cortex_m_startup.c holds the vector table and reset code, and
 * ../common/cortex_m_timer.c a SysTick clock you may use for kiln_board_time_ns.
 */
#include <stdint.h>

#include "cortex_m.h"
#include "kiln_board.h"

#error "platform/board/board.c: fill in the UART, timer and stop hooks for your board, then delete this line"

/* Your CPU clock, for SysTick. */
#define CPU_HZ 64000000u

void kiln_board_init(void) {
  /* Clocks and pins as your board needs; the UART at 115200 8N1 (receiver enabled last). */
  kiln_cortex_m_timer_start(CPU_HZ);
}

void kiln_board_uart_write(uint8_t byte) {
  /* Wait until the transmitter can take a byte, then write it. Never drop a byte. */
  (void)byte;
}

uint8_t kiln_board_uart_read(void) {
  /* Wait until a byte has arrived and return it. */
  return 0;
}

uint64_t kiln_board_time_ns(void) { return kiln_cortex_m_time_ns(); }

void kiln_board_stop(int32_t code, const char *reason) {
  /* The host already has the reason (an abort log). Halt, blink, or reset. */
  (void)code;
  (void)reason;
}
