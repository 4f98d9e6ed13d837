/*
 * The host platform: a POSIX process whose stdin/stdout are the link, the reference platform the
 * tests run as a subprocess. Build:
 *
 *   gcc -std=c99 -O2 -I<crt> -I<executors> <crt>/\*.c <executors>/\*.c <system library>.c main.c -o kiln-device
 *
 * Usage: kiln-device [--random-byte N] [--strict-microtvm]
 *   --random-byte N     pins the session nonce seed, for recorded vectors
 *   --strict-microtvm   answers as microTVM v0.18's CRT where it is stricter (kiln_runtime_strict_microtvm)
 * Exit status: 0 after the host's RPC shutdown, 2 when stdin closes or stdout breaks,
 * 3 after kiln_abort (the reason went to the host as a kLog and is also printed on stderr).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kiln_executors.h"
#include "kiln_platform.h"
#include "kiln_runtime.h"
#include "kiln_syslib.h"

#define HOST_OUT_BYTES 65536
/* Pieces at least this big go straight to the pipe: the framer hands over a big frame in
 * KILN_WRITE_CHUNK_BYTES pieces (68 KiB here, platform.properties: a 64 KiB packet's frame, escapes
 * included, in one write, as the host's framer does; a write per 16 KiB woke the host four times). */
#define HOST_DIRECT_BYTES 4096u
/* Bytes read from the pipe at once: a 64 KiB frame in one or two reads. */
#define HOST_IN_BYTES 65536
/* Stack below main painted for kiln.runtime.StackHighWater (more than any call path needs). */
#define HOST_STACK_PAINT_BYTES (256u * 1024u)

typedef struct {
  int in_fd;
  int out_fd;
  /* Set while main hands the runtime what one read returned: the frames written meanwhile (replies
   * to requests the host sent back to back, pipelined) wait in out and go in one write when those
   * bytes are handled, so the host wakes up once for them. One request gets its reply as soon as
   * it is handled, as before. */
  int holding;
  size_t out_len;
  uint8_t out[HOST_OUT_BYTES];
  uint8_t in[HOST_IN_BYTES];
  uintptr_t stack_low; /* the painted region below main's frame */
} host_platform;

static int write_all(int fd, const uint8_t *bytes, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, bytes, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    bytes += w;
    n -= (size_t)w;
  }
  return 0;
}

int kiln_platform_write(void *platform, const uint8_t *bytes, size_t n, int flush) {
  host_platform *p = (host_platform *)platform;
  int status = 0;
  int direct = n >= HOST_DIRECT_BYTES || (flush && p->out_len == 0);
  if (p->holding) direct = n >= HOST_DIRECT_BYTES;
  if (p->out_len > 0 && (direct || p->out_len + n > sizeof(p->out))) {
    status |= write_all(p->out_fd, p->out, p->out_len);
    p->out_len = 0;
  }
  if (direct) return status | write_all(p->out_fd, bytes, n);
  memcpy(p->out + p->out_len, bytes, n);
  p->out_len += n;
  if (flush && !p->holding) {
    status |= write_all(p->out_fd, p->out, p->out_len);
    p->out_len = 0;
  }
  return status;
}

size_t kiln_platform_read(void *platform, uint8_t *buffer, size_t capacity) {
  host_platform *p = (host_platform *)platform;
  for (;;) {
    ssize_t n = read(p->in_fd, buffer, capacity);
    if (n > 0) return (size_t)n;
    if (n < 0 && errno == EINTR) continue;
    return 0;
  }
}

uint64_t kiln_platform_time_ns(void *platform) {
  struct timespec ts;
  (void)platform;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sends what holding kept back. */
static int host_release(host_platform *p) {
  int status = 0;
  p->holding = 0;
  if (p->out_len > 0) status = write_all(p->out_fd, p->out, p->out_len);
  p->out_len = 0;
  return status;
}

void kiln_platform_abort(void *platform, int32_t code, const char *reason) {
  (void)host_release((host_platform *)platform); /* the abort's kLog, and any reply before it */
  fprintf(stderr, "kiln abort 0x%04lx: %s\n", (unsigned long)code, reason);
  exit(3);
}

/* Paints the stack just below main's frame: the region this frame occupies is where every later
 * call from main runs. Called through a volatile pointer so that it is never inlined into main. */
static void paint_stack(host_platform *p) {
  volatile uint8_t area[HOST_STACK_PAINT_BYTES];
  size_t i;
  for (i = 0; i < sizeof(area); ++i) area[i] = (uint8_t)KILN_STACK_PAINT;
  p->stack_low = (uintptr_t)&area[0];
}

static void (*const volatile stack_painter)(host_platform *) = paint_stack;

static uint8_t default_random_byte(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint8_t)(ts.tv_nsec ^ (ts.tv_nsec >> 8) ^ ts.tv_sec ^ getpid());
}

int main(int argc, char **argv) {
  static kiln_runtime runtime; /* the one runtime instance: holds every pool */
  static host_platform platform;
  uint8_t random_byte = default_random_byte();
  int status = KILN_OK;
  int strict = 0;
  int i;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--random-byte") == 0 && i + 1 < argc) {
      random_byte = (uint8_t)strtol(argv[++i], NULL, 0);
    } else if (strcmp(argv[i], "--strict-microtvm") == 0) {
      strict = 1;
    } else {
      fprintf(stderr, "usage: %s [--random-byte N] [--strict-microtvm]\n", argv[0]);
      return 64;
    }
  }
  signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a write error */
  platform.in_fd = 0;
  platform.out_fd = 1;
  kiln_runtime_init(&runtime, &platform, kiln_system_lib(), random_byte);
  if (strict) kiln_runtime_strict_microtvm(&runtime);
  (void)kiln_executors_register(&runtime); /* tvm.aot_executor.create, tvm.graph_executor.create */
  stack_painter(&platform);
  (void)kiln_stack_watch(&runtime, (const volatile uint8_t *)platform.stack_low, HOST_STACK_PAINT_BYTES);
  /* kiln_runtime_serve's loop, reading into the platform's buffer: big reads without a big stack */
  do {
    size_t n = kiln_platform_read(&platform, platform.in, sizeof(platform.in));
    if (n == 0) break;
    platform.holding = 1;
    status = kiln_runtime_feed(&runtime, platform.in, n);
    (void)host_release(&platform); /* as before, a host that went away shows up as the end of stdin */
  } while (status != KILN_ERR_SHUTDOWN);
  if (status == KILN_ERR_SHUTDOWN) return 0;
  fprintf(stderr, "kiln host device: stdin closed, exiting\n");
  return 2;
}
