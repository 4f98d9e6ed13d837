/*
 * On-the-fly input quantization of the hybrid kernels (float32 activations, int8 weights):
 * TFLite's tensor_utils SymmetricQuantizeFloats and AsymmetricQuantizeFloats, reproduced exactly
 * (the int8 codes must equal TFLite's, or the integer dot products differ).
 */
#include "kiln_fixedpoint.h"
#include "kiln_nn_util.h"

/*
 * roundf (ties away from zero) for |x| < 2^31, without a libm call: the truncation, corrected by
 * the exact remainder (for |x| >= 2^24 the float is an integer and the remainder is 0).
 */
static inline int32_t kiln_round_f32(float x) {
  const int32_t t = (int32_t)x;
  const float fraction = x - (float)t;
  return t + (fraction >= 0.5f ? 1 : 0) - (fraction <= -0.5f ? 1 : 0);
}

/* Smallest and largest value (the min/max of std::minmax_element), in blocks gcc vectorizes. */
static void kiln_min_max(const float *values, int32_t size, float *min_out, float *max_out) {
  float lo[16];
  float hi[16];
  float min_value = values[0];
  float max_value = values[0];
  int32_t i = 0;
  int k;
  for (k = 0; k < 16; ++k) {
    lo[k] = values[0];
    hi[k] = values[0];
  }
  for (; i + 16 <= size; i += 16) {
    for (k = 0; k < 16; ++k) {
      const float v = values[i + k];
      lo[k] = v < lo[k] ? v : lo[k];
      hi[k] = hi[k] < v ? v : hi[k];
    }
  }
  for (k = 0; k < 16; ++k) {
    if (lo[k] < min_value) min_value = lo[k];
    if (max_value < hi[k]) max_value = hi[k];
  }
  for (; i < size; ++i) {
    if (values[i] < min_value) min_value = values[i];
    if (max_value < values[i]) max_value = values[i];
  }
  *min_out = min_value;
  *max_out = max_value;
}

/*
 * TFLite's SymmetricQuantizeFloats (hybrid kernels, per batch image or row):
 * range = max(|min|, |max|); q = clamp(roundf(x * (127 / range)), -127, 127); returns the scale
 * range / 127 (1 for an all-zero image).
 */
float kiln_quantize_symmetric(const float *values, int32_t size, int8_t *quantized) {
  float min_value;
  float max_value;
  float abs_min;
  float abs_max;
  float range;
  float inverse;
  int32_t i;
  kiln_min_max(values, size, &min_value, &max_value);
  abs_min = min_value < 0.0f ? -min_value : min_value;
  abs_max = max_value < 0.0f ? -max_value : max_value;
  range = abs_min < abs_max ? abs_max : abs_min;
  if (range == 0.0f) {
    for (i = 0; i < size; ++i) quantized[i] = 0;
    return 1.0f;
  }
  inverse = 127.0f / range;
  /* blocks of 16 (loops gcc -O2 vectorizes: each block is written to a local first, as to the
     compiler an int8 store may alias the input), then the rest; the same arithmetic per value */
  for (i = 0; i + 16 <= size; i += 16) {
    int8_t block[16];
    int k;
    for (k = 0; k < 16; ++k) {
      const float scaled = values[i + k] * inverse;
      block[k] = (int8_t)kiln_clamp_i32(kiln_round_f32(scaled), -127, 127);
    }
    for (k = 0; k < 16; ++k) quantized[i + k] = block[k];
  }
  for (; i < size; ++i) {
    const float scaled = values[i] * inverse;
    quantized[i] = (int8_t)kiln_clamp_i32(kiln_round_f32(scaled), -127, 127);
  }
  return range / 127.0f;
}

/* C round() on a double, without libm: ties away from zero (|x| < 2^31). */
static int32_t kiln_round_f64(double x) {
  int32_t t = (int32_t)x;
  const double fraction = x - (double)t;
  if (fraction >= 0.5) t += 1;
  if (fraction <= -0.5) t -= 1;
  return t;
}

/*
 * TFLite's AsymmetricQuantizeFloats: [min(0, min x), max(0, max x)] mapped onto [-128, 127] in
 * double, the zero point taken from the end with the smaller error and rounded; the scale is
 * stored as float and its inverse computed in double then rounded to float. Writes the codes and
 * the zero point, returns the scale (1 with zero point 0 for an all-zero image).
 */
float kiln_quantize_asymmetric(const float *values, int32_t size, int8_t *quantized,
                                      int32_t *zero_point) {
  float min_value;
  float max_value;
  double rmin;
  double rmax;
  double scale;
  double from_min;
  double from_max;
  double error_min;
  double error_max;
  double zero_point_double;
  float scale_f;
  float inverse;
  int32_t zp;
  int32_t i;
  kiln_min_max(values, size, &min_value, &max_value);
  rmin = min_value < 0.0f ? (double)min_value : 0.0;
  rmax = max_value > 0.0f ? (double)max_value : 0.0;
  if (rmin == rmax) {
    for (i = 0; i < size; ++i) quantized[i] = 0;
    *zero_point = 0;
    return 1.0f;
  }
  scale = (rmax - rmin) / 255.0;
  from_min = -128.0 - rmin / scale;
  from_max = 127.0 - rmax / scale;
  error_min = 128.0 + (rmin / scale < 0.0 ? -(rmin / scale) : rmin / scale);
  error_max = 127.0 + (rmax / scale < 0.0 ? -(rmax / scale) : rmax / scale);
  zero_point_double = error_min < error_max ? from_min : from_max;
  if (zero_point_double <= -128.0) {
    zp = -128;
  } else if (zero_point_double >= 127.0) {
    zp = 127;
  } else {
    zp = kiln_round_f64(zero_point_double);
  }
  scale_f = (float)scale;
  inverse = (float)(1.0 / (double)scale_f);
  for (i = 0; i < size; ++i) {
    const float scaled = values[i] * inverse;
    const float shifted = (float)zp + scaled;
    quantized[i] = (int8_t)kiln_clamp_i32(kiln_round_f32(shifted), -128, 127);
  }
  *zero_point = zp;
  return scale_f;
}

