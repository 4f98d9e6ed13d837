/*
 * The microcontroller platform: the Kiln runtime served over one UART, for every board that
 * implements kiln_board.h (platform/<board>/). Blocking, single-threaded: the main loop reads a
 * byte, feeds it, and every reply is written before the next byte is read (the UART back-pressures
 * the host). The runtime instance is the one static the design allows; the board keeps its own
 * state, so the platform pointer the runtime passes back is unused (NULL).
 */
#include "kiln_board.h"
#include "kiln_executors.h"
#include "kiln_mcu.h"
#include "kiln_platform.h"
#include "kiln_runtime.h"
#include "kiln_syslib.h"

static kiln_runtime runtime;

/* The stack region painted at start-up and watched for kiln.runtime.StackHighWater: part of the stack
 * the platform reserves (platform.properties stack_bytes; the build passes three quarters of it), so
 * painting never reaches data or bss. */
#ifndef KILN_MCU_STACK_PAINT_BYTES
#define KILN_MCU_STACK_PAINT_BYTES 1024
#endif

static uintptr_t stack_low; /* an address: the painted region below main's frame */

/* Paints the stack just below main's frame, where every later call from main runs. Called through a
 * volatile pointer so that it is never inlined into main. */
static void paint_stack(void) {
  volatile uint8_t area[KILN_MCU_STACK_PAINT_BYTES];
  size_t i;
  for (i = 0; i < sizeof(area); ++i) area[i] = (uint8_t)KILN_STACK_PAINT;
  stack_low = (uintptr_t)&area[0];
}

static void (*const volatile stack_painter)(void) = paint_stack;

int kiln_platform_write(void *platform, const uint8_t *bytes, size_t n, int flush) {
  size_t i;
  (void)platform;
  (void)flush;
  for (i = 0; i < n; ++i) kiln_board_uart_write(bytes[i]);
  return 0;
}

size_t kiln_platform_read(void *platform, uint8_t *buffer, size_t capacity) {
  (void)platform;
  if (capacity == 0) return 0;
  buffer[0] = kiln_board_uart_read();
  return 1;
}

uint64_t kiln_platform_time_ns(void *platform) {
  (void)platform;
  return kiln_board_time_ns();
}

void kiln_platform_abort(void *platform, int32_t code, const char *reason) {
  (void)platform;
  kiln_board_stop(code, reason);
  for (;;) {
  }
}

void kiln_mcu_fault(const char *reason) {
  /* A CPU fault: tell the host why (as kiln_abort does), then stop. */
  kiln_abort(&runtime, KILN_ERR_CHECK_FAILURE, reason);
}

void kiln_mcu_linger(void) {
  volatile uint32_t i;
  for (i = 0; i < 4000000u; i = i + 1u) {
  }
}

#if defined(KILN_MCU_RAW_ECHO)
/* A link benchmark instead of the runtime: every received byte goes straight back, so the host
 * measures the UART's raw rate (kiln bench's echo figure, beside the RPC link figures). */
int main(void) {
  kiln_board_init();
  for (;;) kiln_board_uart_write(kiln_board_uart_read());
}
#else
int main(void) {
  uint64_t t;
  kiln_board_init();
  t = kiln_board_time_ns();
  kiln_runtime_init(&runtime, NULL, kiln_system_lib(), (uint8_t)(t ^ (t >> 8) ^ (t >> 16)));
  (void)kiln_executors_register(&runtime);
  stack_painter();
  (void)kiln_stack_watch(&runtime, (const volatile uint8_t *)stack_low, KILN_MCU_STACK_PAINT_BYTES);
  for (;;) {
    if (kiln_runtime_serve(&runtime) == KILN_ERR_SHUTDOWN) {
      /* After the host's shutdown the device waits for the next session (a host opening a new one
       * starts with a handshake, which the runtime answers again after re-initialising). */
      kiln_runtime_init(&runtime, NULL, kiln_system_lib(), (uint8_t)(kiln_board_time_ns() >> 3));
      (void)kiln_executors_register(&runtime);
      (void)kiln_stack_watch(&runtime, (const volatile uint8_t *)stack_low, KILN_MCU_STACK_PAINT_BYTES);
    }
  }
}
#endif
