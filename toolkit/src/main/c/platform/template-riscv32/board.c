/*
 * Your RV32 board: fill in the start-up (stack, .data/.bss, trap vector) and the five hooks of
 * kiln_board.h (see ../../README.md), then delete the #error. ../qemu-riscv32-virt/board.c is a
 * complete example for QEMU's virt machine (NS16550A UART, mcycle clock).
 */
#include <stdint.h>

#include "kiln_board.h"

#error "platform/board/board.c: fill in the start-up code and the UART, timer and stop hooks, then delete this line"

void kiln_board_init(void) {}

void kiln_board_uart_write(uint8_t byte) { (void)byte; }

uint8_t kiln_board_uart_read(void) { return 0; }

uint64_t kiln_board_time_ns(void) { return 0; }

void kiln_board_stop(int32_t code, const char *reason) {
  (void)code;
  (void)reason;
}
