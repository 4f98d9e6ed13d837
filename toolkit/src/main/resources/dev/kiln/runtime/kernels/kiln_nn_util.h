/*
 * Private helpers of the kiln_nn_*.c kernels (not part of the kernel API).
 */
#ifndef KILN_NN_UTIL_H
#define KILN_NN_UTIL_H

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

#endif /* KILN_NN_UTIL_H */
