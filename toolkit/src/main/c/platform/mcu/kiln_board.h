/*
 * The board contract of platform/mcu/kiln_mcu_main.c: the five hooks a microcontroller provides so
 * that the shared main can serve the Kiln runtime over a UART. A board folder (platform/<name>/)
 * implements them with its UART, its timer and its way to stop; nothing else is board-specific.
 * A generated firmware project (`kiln project`) asks the user to fill exactly these.
 */
#ifndef KILN_BOARD_H
#define KILN_BOARD_H

#include <stdint.h>

/* Clocks, UART (8N1, receiver enabled last), the timer behind kiln_board_time_ns. Called once,
 * first thing in main. */
void kiln_board_init(void);

/* Sends one byte, waiting while the transmitter is full (never drops a byte). */
void kiln_board_uart_write(uint8_t byte);

/* Waits for one received byte and returns it. */
uint8_t kiln_board_uart_read(void);

/* Nanoseconds since kiln_board_init, monotonic; resolution is the timer's tick (40 ns at 25 MHz). */
uint64_t kiln_board_time_ns(void);

/* Stops for good after the runtime sent the reason to the host: QEMU boards exit QEMU with status
 * 3 (the host's link then closes at once), real boards halt. code is a KILN_ERR_* value. */
void kiln_board_stop(int32_t code, const char *reason);

#endif /* KILN_BOARD_H */
