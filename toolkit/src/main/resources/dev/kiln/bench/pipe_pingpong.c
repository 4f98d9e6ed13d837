/*
 * The raw pipe under the RPC link, for `kiln bench --link`: a child process on stdin/stdout like the
 * host device, without framing, session or RPC. Each round it reads IN bytes, then writes OUT bytes,
 * until stdin ends. IN=N OUT=1 times host->device messages, IN=1 OUT=N device->host messages, and
 * small IN/OUT a bare round trip.
 *
 *   gcc -std=c99 -O2 pipe_pingpong.c -o pipe_pingpong && ./pipe_pingpong IN OUT
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MESSAGE (1u << 20)

static unsigned char buffer[MAX_MESSAGE];

static int read_all(unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(0, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int write_all(const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  unsigned long in;
  unsigned long out;
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
    return 64;
  }
  in = strtoul(argv[1], NULL, 10);
  out = strtoul(argv[2], NULL, 10);
  if (in == 0 || in > MAX_MESSAGE || out == 0 || out > MAX_MESSAGE) {
    fprintf(stderr, "IN and OUT must be 1..%u\n", MAX_MESSAGE);
    return 64;
  }
  memset(buffer, 0x5a, sizeof(buffer));
  for (;;) {
    if (read_all(buffer, in) != 0) return 0;
    if (write_all(buffer, out) != 0) return 2;
  }
}
