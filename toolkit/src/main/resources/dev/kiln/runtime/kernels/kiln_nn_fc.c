/*
 * FULLY_CONNECTED: int8 (TF 2.21 reference: double-precision rescale), float32, hybrid.
 * tflite-numerics.md section 3.3.
 */
#include <math.h>

#include "kiln_fixedpoint.h"
#include "kiln_nn.h"
#include "kiln_nn_util.h"

/* Number of significant bits of x (0 for 0). */
static int kiln_bit_length_u64(uint64_t x) {
  int n = 0;
  if (x >> 32) { n += 32; x >>= 32; }
  if (x >> 16) { n += 16; x >>= 16; }
  if (x >> 8) { n += 8; x >>= 8; }
  if (x >> 4) { n += 4; x >>= 4; }
  if (x >> 2) { n += 2; x >>= 2; }
  if (x >> 1) { n += 1; x >>= 1; }
  return n + (int)x;
}

/*
 * round(double(acc) * M) where M = mantissa * 2^exponent ({mantissa >> 32, mantissa & 0xffffffff,
 * exponent}), without floating point:
 * 1. P = |acc| * mantissa exactly (at most 32 + 53 bits, held as hi:lo);
 * 2. P rounded to 53 significant bits, ties to even — what the IEEE double product does;
 * 3. the result q * 2^e rounded to an integer, ties away from zero (C round), sign restored;
 * 4. saturated to int32 (the C conversion of an out-of-range double is undefined).
 */
int32_t kiln_f64_rescale(int32_t acc, const int32_t *multiplier) {
  const uint64_t mantissa =
      ((uint64_t)(uint32_t)multiplier[0] << 32) | (uint64_t)(uint32_t)multiplier[1];
  const int negative = acc < 0;
  const uint64_t magnitude = negative ? (uint64_t)0 - (uint64_t)(int64_t)acc : (uint64_t)acc;
  uint64_t lo;
  uint64_t hi;
  uint64_t q;
  int exponent = multiplier[2];
  int length;
  uint64_t result;
  if (magnitude == 0 || mantissa == 0) return 0;
  {
    const uint64_t low_part = magnitude * (mantissa & 0xffffffffu); /* < 2^64 */
    const uint64_t high_part = magnitude * (mantissa >> 32);        /* < 2^53 */
    lo = low_part + (high_part << 32);
    hi = (high_part >> 32) + (lo < low_part ? 1u : 0u);
  }
  length = hi != 0 ? 64 + kiln_bit_length_u64(hi) : kiln_bit_length_u64(lo);
  if (length > 53) {
    const int drop = length - 53; /* 1 .. 32 */
    const uint64_t remainder = lo & ((((uint64_t)1) << drop) - 1);
    const uint64_t half = ((uint64_t)1) << (drop - 1);
    q = (lo >> drop) | (hi << (64 - drop));
    if (remainder > half || (remainder == half && (q & 1u) != 0)) q += 1;
    exponent += drop;
  } else {
    q = lo;
  }
  /* value = q * 2^exponent with q <= 2^53 */
  if (exponent >= 0) {
    if (exponent > 31 || q > (((uint64_t)1) << 31) >> exponent) {
      result = ((uint64_t)1) << 31;
    } else {
      result = q << exponent;
    }
  } else {
    const int shift = -exponent;
    if (shift > 60) {
      result = 0;
    } else {
      const uint64_t fraction = q & ((((uint64_t)1) << shift) - 1);
      result = q >> shift;
      if (fraction >= (((uint64_t)1) << (shift - 1))) result += 1;
    }
  }
  if (negative) {
    if (result >= (((uint64_t)1) << 31)) return INT32_MIN;
    return -(int32_t)result;
  }
  if (result > (uint64_t)INT32_MAX) return INT32_MAX;
  return (int32_t)result;
}

void kiln_fully_connected_s8(const kiln_fc_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const int32_t input_offset = p->input_offset;
  const int32_t filter_offset = p->filter_offset;
  const int32_t output_offset = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + (size_t)b * depth;
    int32_t u;
    for (u = 0; u < units; ++u) {
      const int8_t *filter_row = filter + (size_t)u * depth;
      const int32_t *scale = p->out_scale + (p->per_channel ? u : 0) * KILN_F64_WORDS;
      int32_t acc = 0;
      int32_t d;
      int64_t y;
      for (d = 0; d < depth; ++d) {
        acc += ((int32_t)filter_row[d] + filter_offset) * ((int32_t)in_row[d] + input_offset);
      }
      if (bias != NULL) acc += bias[u];
      y = (int64_t)kiln_f64_rescale(acc, scale) + output_offset;
      if (y < act_min) y = act_min;
      if (y > act_max) y = act_max;
      output[u] = (int8_t)y;
    }
    output += units;
  }
}

void kiln_fully_connected_f32(const kiln_fc_params *p, const float *input, const float *filter,
                              const float *bias, float *output) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_row = input + (size_t)b * depth;
    int32_t u;
    for (u = 0; u < units; ++u) {
      const float *filter_row = filter + (size_t)u * depth;
      float total = 0.0f;
      int32_t d;
      for (d = 0; d < depth; ++d) {
        const float product = in_row[d] * filter_row[d];
        total += product;
      }
      if (bias != NULL) total += bias[u];
      output[u] = kiln_clamp_f32(total, act_min, act_max);
    }
    output += units;
  }
}

void kiln_fully_connected_hybrid_f32(const kiln_fc_params *p, const float *input,
                                     const int8_t *filter, const float *bias, float *output,
                                     void *scratch) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  int8_t *quantized = (int8_t *)scratch;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_row = input + (size_t)b * depth;
    float min_value = in_row[0];
    float max_value = in_row[0];
    float abs_min;
    float abs_max;
    float range;
    float scale = 0.0f;
    int32_t d;
    int32_t u;
    for (d = 1; d < depth; ++d) {
      if (in_row[d] < min_value) min_value = in_row[d];
      if (max_value < in_row[d]) max_value = in_row[d];
    }
    abs_min = min_value < 0.0f ? -min_value : min_value;
    abs_max = max_value < 0.0f ? -max_value : max_value;
    range = abs_min < abs_max ? abs_max : abs_min;
    if (range != 0.0f) {
      const float inverse = 127.0f / range;
      for (d = 0; d < depth; ++d) {
        const float scaled = in_row[d] * inverse;
        quantized[d] = (int8_t)kiln_clamp_i32((int32_t)roundf(scaled), -127, 127);
      }
      scale = range / 127.0f;
      scale = scale * p->filter_scale;
    }
    for (u = 0; u < units; ++u) {
      float value = bias != NULL ? bias[u] : 0.0f;
      if (range != 0.0f) {
        const int8_t *filter_row = filter + (size_t)u * depth;
        int32_t acc = 0;
        float product;
        for (d = 0; d < depth; ++d) acc += (int32_t)filter_row[d] * (int32_t)quantized[d];
        product = (float)acc * scale;
        value += product;
      }
      output[u] = kiln_clamp_f32(value, act_min, act_max);
    }
    output += units;
  }
}
