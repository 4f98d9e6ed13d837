/*
 * Private helpers of the kiln_nn_*.c kernels (not part of the kernel API).
 */
#ifndef KILN_NN_UTIL_H
#define KILN_NN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Filter taps k in [*first, *end) whose input coordinate origin + k * dilation lies in
 * [0, size): the taps a kernel visits; the others fall on implicit padding and are skipped.
 */
static inline void kiln_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                  int32_t *first, int32_t *end) {
  int32_t lo = 0;
  int32_t hi = 0;
  if (origin < 0) lo = (-origin + dilation - 1) / dilation;
  if (origin < size) hi = (size - origin + dilation - 1) / dilation;
  if (hi > taps) hi = taps;
  if (lo > hi) lo = hi;
  *first = lo;
  *end = hi;
}

/* TFLite's ActivationFunctionWithMinMax on float: min(max(v, lo), hi); a NaN passes through. */
static inline float kiln_clamp_f32(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return hi < v ? hi : v;
}

/*
 * Dot products of the int8 kernels, written so that gcc -O2 vectorizes them (an inner loop of a
 * constant 16 iterations; x + x_offset in 16 bits, which holds [-255, 255]):
 * kiln_dot_s8 returns sum_k w[k] * (x[k] + x_offset); kiln_dot4_s8 adds the same for the four
 * filter rows w, w + w_stride, w + 2 w_stride, w + 3 w_stride to acc[0..3], reading x once.
 * Exact integer sums, so the order does not matter.
 */
static inline int32_t kiln_dot_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t x_offset) {
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int32_t s = 0;
    int k;
    for (k = 0; k < 16; ++k) s += (int32_t)w[i + k] * (int16_t)(x[i + k] + x_offset);
    acc += s;
  }
  for (; i < n; ++i) acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
  return acc;
}

/* kiln_dot4_s8's inner block: rows w0..w3 against `size` (16 or 32) values of x. */
#define KILN_DOT4_BLOCK(size)                                                  \
  do {                                                                         \
    int16_t xv[size];                                                          \
    int32_t s0 = 0;                                                            \
    int32_t s1 = 0;                                                            \
    int32_t s2 = 0;                                                            \
    int32_t s3 = 0;                                                            \
    int k;                                                                     \
    for (k = 0; k < (size); ++k) xv[k] = (int16_t)(x[i + k] + x_offset);       \
    for (k = 0; k < (size); ++k) s0 += (int32_t)w0[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s1 += (int32_t)w1[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s2 += (int32_t)w2[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s3 += (int32_t)w3[i + k] * xv[k];             \
    a0 += s0;                                                                  \
    a1 += s1;                                                                  \
    a2 += s2;                                                                  \
    a3 += s3;                                                                  \
    i += (size);                                                               \
  } while (0)

static inline void kiln_dot4_s8(const int8_t *w, size_t w_stride, const int8_t *x, int32_t n,
                                int32_t x_offset, int32_t *acc) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  int32_t a0 = 0;
  int32_t a1 = 0;
  int32_t a2 = 0;
  int32_t a3 = 0;
  int32_t i = 0;
  while (i + 32 <= n) KILN_DOT4_BLOCK(32);
  if (i + 16 <= n) KILN_DOT4_BLOCK(16);
  for (; i < n; ++i) {
    const int32_t xv = (int32_t)x[i] + x_offset;
    a0 += (int32_t)w0[i] * xv;
    a1 += (int32_t)w1[i] * xv;
    a2 += (int32_t)w2[i] * xv;
    a3 += (int32_t)w3[i] * xv;
  }
  acc[0] += a0;
  acc[1] += a1;
  acc[2] += a2;
  acc[3] += a3;
}

/*
 * float32 dot products in the reference order: each total is accumulated from 0.0f (or its
 * previous value) over k = 0, 1, ..., product then sum rounded separately. kiln_dot4_f32 keeps
 * four independent totals (four filter rows against one x), which only adds parallelism.
 */
static inline float kiln_dot_f32(const float *w, const float *x, int32_t n, float total) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const float product = x[i] * w[i];
    total += product;
  }
  return total;
}

static inline void kiln_dot4_f32(const float *w, size_t w_stride, const float *x, int32_t n,
                                 float *total) {
  const float *w0 = w;
  const float *w1 = w0 + w_stride;
  const float *w2 = w1 + w_stride;
  const float *w3 = w2 + w_stride;
  float t0 = total[0];
  float t1 = total[1];
  float t2 = total[2];
  float t3 = total[3];
  int32_t i;
  for (i = 0; i < n; ++i) {
    const float xv = x[i];
    const float p0 = xv * w0[i];
    const float p1 = xv * w1[i];
    const float p2 = xv * w2[i];
    const float p3 = xv * w3[i];
    t0 += p0;
    t1 += p1;
    t2 += p2;
    t3 += p3;
  }
  total[0] = t0;
  total[1] = t1;
  total[2] = t2;
  total[3] = t3;
}

/*
 * Hybrid-kernel input quantization (kiln_nn_quant.c). Symmetric: q = clamp(roundf(x * 127 /
 * range), -127, 127), range = max |x|; returns range / 127 (1 for all zeros). Asymmetric:
 * [min(0, min x), max(0, max x)] onto [-128, 127] with a zero point; returns the scale and writes
 * the zero point.
 */
float kiln_quantize_symmetric(const float *values, int32_t size, int8_t *quantized);
float kiln_quantize_asymmetric(const float *values, int32_t size, int8_t *quantized,
                               int32_t *zero_point);

#endif /* KILN_NN_UTIL_H */
