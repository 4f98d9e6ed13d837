/*
 * BBC micro:bit (nRF51822: Cortex-M0 at 16 MHz, 256 KiB flash, 16 KiB RAM) in QEMU's microbit
 * machine. UART0 at 0x40002000, polled through its events: a byte may be written only after the
 * previous one raised TXDRDY (QEMU drops it otherwise), and RXDRDY is cleared before RXD is read
 * (reading re-raises it while the 6-byte receive FIFO holds more). SysTick at 16 MHz is the clock.
 */
#include <stdint.h>

#include "cortex_m.h"
#include "kiln_board.h"
#include "kiln_mcu.h"

#define UART_BASE 0x40002000u
#define UART_STARTRX KILN_REG(UART_BASE + 0x000u)
#define UART_STARTTX KILN_REG(UART_BASE + 0x008u)
#define UART_RXDRDY KILN_REG(UART_BASE + 0x108u)
#define UART_TXDRDY KILN_REG(UART_BASE + 0x11Cu)
#define UART_ENABLE KILN_REG(UART_BASE + 0x500u)
#define UART_RXD KILN_REG(UART_BASE + 0x518u)
#define UART_TXD KILN_REG(UART_BASE + 0x51Cu)
#define UART_BAUDRATE KILN_REG(UART_BASE + 0x524u)
#define BAUD_115200 0x01D7E000u

#define CPU_HZ 16000000u

/* Whether a byte was written and TXDRDY not yet seen: the first write needs no wait. */
static int tx_pending;

void kiln_board_init(void) {
  kiln_cortex_m_timer_start(CPU_HZ);
  UART_ENABLE = 4u;
  UART_BAUDRATE = BAUD_115200;
  UART_TXDRDY = 0;
  UART_RXDRDY = 0;
  UART_STARTTX = 1u;
  UART_STARTRX = 1u;
}

void kiln_board_uart_write(uint8_t byte) {
  if (tx_pending) {
    while (UART_TXDRDY == 0) {
    }
  }
  UART_TXDRDY = 0;
  UART_TXD = byte;
  tx_pending = 1;
}

uint8_t kiln_board_uart_read(void) {
  while (UART_RXDRDY == 0) {
  }
  UART_RXDRDY = 0;
  return (uint8_t)UART_RXD;
}

uint64_t kiln_board_time_ns(void) { return kiln_cortex_m_time_ns(); }

void kiln_board_stop(int32_t code, const char *reason) {
  (void)code;
  (void)reason;
  if (tx_pending) {
    while (UART_TXDRDY == 0) {
    }
  }
  kiln_mcu_linger();
  kiln_cortex_m_semihost_exit(3u);
}
