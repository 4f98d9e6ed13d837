/*
 * CMSDK APB UART driver (registers: shared/docs/qemu-cortex-m.md §4). Always poll TXFULL before
 * writing DATA: QEMU replaces a pending byte otherwise.
 */
#include "cmsdk_uart.h"

#define UART_DATA(b) (*(volatile uint32_t *)((b) + 0x00u))
#define UART_STATE(b) (*(volatile uint32_t *)((b) + 0x04u))
#define UART_CTRL(b) (*(volatile uint32_t *)((b) + 0x08u))
#define UART_BAUDDIV(b) (*(volatile uint32_t *)((b) + 0x10u))

#define STATE_TXFULL 0x1u
#define STATE_RXFULL 0x2u

void kiln_cmsdk_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud) {
  UART_CTRL(base) = 0;
  UART_BAUDDIV(base) = pclk_hz / baud;
  UART_CTRL(base) = 0x3u; /* TX and RX enable, no interrupts */
}

void kiln_cmsdk_uart_write(uintptr_t base, uint8_t byte) {
  while ((UART_STATE(base) & STATE_TXFULL) != 0) {
  }
  UART_DATA(base) = byte;
}

uint8_t kiln_cmsdk_uart_read(uintptr_t base) {
  while ((UART_STATE(base) & STATE_RXFULL) == 0) {
  }
  return (uint8_t)UART_DATA(base);
}

void kiln_cmsdk_uart_drain(uintptr_t base) {
  while ((UART_STATE(base) & STATE_TXFULL) != 0) {
  }
}
