/* Prints kiln_crc16_update(init, data + off, len) for the cases DeviceCrcTest checks against the
 * bitwise definition: data from a 32-bit LCG (x = x * 1103515245 + 12345, byte = x >> 16), init
 * values from the same generator. One line per case: "off len init crc", decimal. */
#include <stdio.h>
#include <stdlib.h>

#include "kiln_framing.h"

#define DATA_BYTES 70000u

static uint32_t lcg(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

static void check(const uint8_t *data, size_t off, size_t len, uint32_t *x) {
  uint16_t init = (uint16_t)lcg(x);
  printf("%lu %lu %u %u\n", (unsigned long)off, (unsigned long)len, (unsigned)init,
         (unsigned)kiln_crc16_update(init, data + off, len));
}

int main(void) {
  static uint8_t data[DATA_BYTES];
  uint32_t x = 1u;
  size_t i;
  size_t off;
  size_t len;
  for (i = 0; i < DATA_BYTES; ++i) data[i] = (uint8_t)lcg(&x);
  for (off = 0; off < 17u; ++off) {
    for (len = 0; len <= 300u; ++len) check(data, off, len, &x);
  }
  /* around and above where x86-64 hosts with VPCLMULQDQ switch to 512-bit folding (1024 bytes) */
  for (len = 1000; len <= 1300u; ++len) check(data, 7, len, &x);
  for (len = 2000; len <= DATA_BYTES - 9u; len += 997u) check(data, 9, len, &x);
  check(data, 3, 4096, &x);
  check(data, 5, 65536, &x);
  check(data, 0, DATA_BYTES, &x);
  return 0;
}
