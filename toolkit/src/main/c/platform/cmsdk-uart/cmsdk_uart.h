/* Arm CMSDK APB UART (MPS2/MPS2+ boards): one holding byte each way, polled. */
#ifndef KILN_CMSDK_UART_H
#define KILN_CMSDK_UART_H

#include <stdint.h>

void kiln_cmsdk_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud);
void kiln_cmsdk_uart_write(uintptr_t base, uint8_t byte);
uint8_t kiln_cmsdk_uart_read(uintptr_t base);
/* Waits until the last byte left the holding register (before stopping). */
void kiln_cmsdk_uart_drain(uintptr_t base);

#endif /* KILN_CMSDK_UART_H */
