/*
 * Fixed-point building blocks of TFLite's reference kernels (TF 2.21, double rounding).
 * Written with divisions where C99 leaves right shifts of negative numbers
 * implementation-defined. See tflite-numerics.md section 1.
 */
#ifndef KILN_FIXEDPOINT_H
#define KILN_FIXEDPOINT_H

#include <stdint.h>

/* SaturatingRoundingDoublingHighMul: round(a*b / 2^31), ties toward +inf. */
static inline int32_t kiln_srdhm(int32_t a, int32_t b) {
  int64_t ab;
  int64_t nudge;
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* RoundingDivideByPOT: x / 2^n, ties away from zero, 0 <= n <= 31. */
static inline int32_t kiln_rdbpot(int32_t x, int n) {
  const int32_t mask = (int32_t)(((int64_t)1 << n) - 1);
  const int32_t rem = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  /* floor(x / 2^n) without right-shifting a negative value (implementation-
   * defined in C99); GCC and Clang compile it to one arithmetic shift, where
   * the former division by a variable 2^n cost a 64-bit divide per call. */
  const int32_t floor_div = x >= 0 ? x >> n : ~(~x >> n);
  return floor_div + (rem > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: RDBPOT(SRDHM(x * 2^left, q), right). */
static inline int32_t kiln_mbqm(int32_t x, int32_t q, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return kiln_rdbpot(kiln_srdhm((int32_t)((int64_t)x * ((int64_t)1 << left)), q), right);
}

static inline int32_t kiln_clamp_i32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent: a left shift clamped to int32. */
static inline int32_t kiln_saturating_shift_left(int32_t x, int exponent) {
  const int64_t v = (int64_t)x * ((int64_t)1 << exponent);
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}

/*
 * GetInvSqrtQuantizedMultiplierExp(input, reverse_shift = -1): 1 / sqrt(input) as a Q31 multiplier
 * and a left shift, by five Newton-Raphson steps in gemmlowp fixed point with 3 integer bits (L2
 * normalization, the integer LSTM's layer norm).
 */
static inline void kiln_inv_sqrt_multiplier(int32_t input, int32_t *multiplier, int32_t *shift) {
  const int32_t half_three = (1 << 28) + (1 << 27); /* 1.5 in Q3.28 */
  int32_t s = 11;
  int32_t clz = 0;
  int32_t pairs;
  int32_t half_input;
  int32_t x = 1 << 28; /* 1.0 */
  int i;
  if (input <= 1) {
    *multiplier = INT32_MAX;
    *shift = 0;
    return;
  }
  while (input >= (1 << 29)) {
    input /= 4;
    ++s;
  }
  while (((uint32_t)input << clz & 0x80000000u) == 0) ++clz;
  pairs = (clz - 1) / 2 - 1;
  s -= pairs;
  input *= (int32_t)1 << (2 * pairs);
  half_input = kiln_rdbpot(input / 2, 1);
  for (i = 0; i < 5; ++i) {
    const int32_t x3 = kiln_saturating_shift_left(kiln_srdhm(kiln_srdhm(x, x), x), 6);
    x = kiln_saturating_shift_left(kiln_srdhm(half_three, x) - kiln_srdhm(half_input, x3), 3);
  }
  x = kiln_srdhm(x, 1518500250); /* * sqrt(2) / 2 */
  if (s < 0) {
    x *= (int32_t)1 << -s;
    s = 0;
  }
  *multiplier = x;
  *shift = -s;
}

#endif /* KILN_FIXEDPOINT_H */
