/*
 * FULLY_CONNECTED: int8 (TF 2.21 reference: double-precision rescale), float32, hybrid.
 * tflite-numerics.md section 3.3.
 */
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
 * exponent}), without floating point.
 *
 * Exact path: P = |acc| * mantissa exactly (at most 32 + 53 bits, held as hi:lo); P rounded to 53
 * significant bits, ties to even, as the IEEE double product is; the result q * 2^e rounded to an
 * integer, ties away from zero (C round); sign restored; saturated to int32 (converting an
 * out-of-range double is undefined in C).
 *
 * Fast path (almost every call): with the mantissa's top 32 bits only, q = |acc| * (mantissa >>
 * 21) brackets the exact value V (in units of 2^-s, s = -(exponent + 21)): q <= V < q + |acc|. The
 * double product moves V by at most half an ulp, below 2^-22 for |V| < 2^31. Unless V lies that
 * close to a half-integer, rounding q gives the same integer; otherwise the exact path decides.
 */
static int32_t kiln_f64_rescale_exact(uint64_t magnitude, int negative, uint64_t mantissa,
                                      int exponent) {
  uint64_t lo;
  uint64_t hi;
  uint64_t q;
  int length;
  uint64_t result;
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

static inline int32_t kiln_f64_rescale_inline(int32_t acc, const int32_t *multiplier) {
  const uint64_t mantissa =
      ((uint64_t)(uint32_t)multiplier[0] << 32) | (uint64_t)(uint32_t)multiplier[1];
  const int exponent = multiplier[2];
  const int negative = acc < 0;
  const uint64_t magnitude = negative ? (uint64_t)0 - (uint64_t)(int64_t)acc : (uint64_t)acc;
  const int shift = -(exponent + 21);
  if (magnitude == 0 || mantissa == 0) return 0;
  if (mantissa >= ((uint64_t)1 << 52) && shift >= 24 && shift <= 62) {
    const uint64_t q = magnitude * (mantissa >> 21); /* < 2^63 */
    const uint64_t integer = q >> shift;
    if (integer < ((uint64_t)1 << 30)) {
      const uint64_t fraction = q & ((((uint64_t)1) << shift) - 1);
      const uint64_t half = ((uint64_t)1) << (shift - 1);
      const uint64_t margin = magnitude + (((uint64_t)1) << (shift - 22));
      if (fraction + margin < half || fraction >= half + margin) {
        const int32_t r = (int32_t)integer + (fraction >= half ? 1 : 0);
        return negative ? -r : r;
      }
    }
  }
  return kiln_f64_rescale_exact(magnitude, negative, mantissa, exponent);
}

int32_t kiln_f64_rescale(int32_t acc, const int32_t *multiplier) {
  return kiln_f64_rescale_inline(acc, multiplier);
}

/* int32 dot products of `units` (1..4) consecutive weight rows with (x + x_offset), into acc. */
static void kiln_fc_rows_s8(const int8_t *filter, int32_t depth, const int8_t *x, int32_t x_offset,
                            int32_t units, int32_t *acc) {
  acc[0] = 0;
  acc[1] = 0;
  acc[2] = 0;
  acc[3] = 0;
  if (units == 4) {
    kiln_dot4_s8(filter, (size_t)depth, x, depth, x_offset, acc);
  } else {
    int32_t j;
    for (j = 0; j < units; ++j) {
      acc[j] = kiln_dot_s8(filter + (size_t)j * (size_t)depth, x, depth, x_offset);
    }
  }
}

/*
 * The DSP dot products below on a core with the DSP extension, in a model with a FULLY_CONNECTED
 * they take (KILN_FC_S8_DSP_USED, set by the code generator as KILN_FC_S8_PORTABLE_USED): a model
 * whose FCs all have fewer than 4 units never calls them, nor stages its input for them.
 */
#if defined(__ARM_FEATURE_DSP) && KILN_FC_S8_DSP_USED
#define KILN_FC_DSP 1
#else
#define KILN_FC_DSP 0
#endif

#if KILN_FC_DSP
/*
 * The DSP form of the int8 dot products (inputs of at most KILN_FC_DSP_DEPTH_MAX values): the
 * input row is split once into words of int16 lanes, input + offset, holding d, d + 2 and
 * d + 1, d + 3 (the lane order SXTB16 gives a weight word), so each pass over four weight rows
 * loads two staged words and one word per row, with no offset to add: 16 multiply-adds in 8
 * SMLADs. The last depth % 4 values go through a plain loop.
 */
#ifndef KILN_FC_DSP_DEPTH_MAX
#define KILN_FC_DSP_DEPTH_MAX 1024
#endif
#if KILN_FC_DSP_DEPTH_MAX < 1024 && !KILN_FC_S8_PORTABLE_USED
/* the code generator leaves the portable path out for depths up to 1024 */
#error "a KILN_FC_DSP_DEPTH_MAX below 1024 needs -DKILN_FC_S8_PORTABLE_USED=1"
#endif

static void kiln_fc_stage_dsp(const int8_t *x, int32_t depth, int32_t x_offset, int32_t *stage) {
  const int32_t off2 = kiln_offset_x2(x_offset);
  int32_t d;
  for (d = 0; d + 4 <= depth; d += 4) {
    const int32_t xv = kiln_load_s8x4(x + d);
    stage[d / 2] = __sxtab16(off2, xv);
    stage[d / 2 + 1] = __sxtab16(off2, kiln_ror8(xv));
  }
  for (; d < depth; ++d) stage[d] = (int32_t)x[d] + x_offset; /* the tail, one value a word */
}

/*
 * acc[j] = sum_d w_j[d] * (x[d] + offset) for the four rows w + j * depth, x staged above. Rows 1
 * and 3 are read at a register offset from rows 0 and 2 (two moving pointers instead of four), so
 * the loop's live values fit the M4's registers with nothing spilled to the stack.
 */
#if defined(__GNUC__) && !defined(__clang__)
/*
 * GCC 12's first scheduling pass hoists the four weight loads above the SMLADs, which needs more
 * registers than the M4 has and spills three values inside the loop (38 instructions a pass
 * instead of 29); without it every loop value stays in a register.
 */
__attribute__((optimize("no-schedule-insns")))
#endif
__attribute__((noinline)) /* its own registers: the loop needs all of them */
static void kiln_fc_dot4_dsp(const int8_t *w, int32_t depth, const int32_t *stage, int32_t *acc) {
  const size_t row = (size_t)depth;
  const size_t row2 = 2 * row;
  const size_t row3 = 3 * row;
  const int32_t *x = stage;
  const int32_t *end = stage + (depth & ~3) / 2;
  int32_t a0 = 0;
  int32_t a1 = 0;
  int32_t a2 = 0;
  int32_t a3 = 0;
  int32_t d;
  while (x != end) {
    const int32_t xa = x[0];
    const int32_t xb = x[1];
    int32_t wv = kiln_load_s8x4(w + row);
    a1 = __smlad(__sxtb16(wv), xa, a1);
    a1 = __smlad(__sxtb16(kiln_ror8(wv)), xb, a1);
    wv = kiln_load_s8x4(w + row2);
    a2 = __smlad(__sxtb16(wv), xa, a2);
    a2 = __smlad(__sxtb16(kiln_ror8(wv)), xb, a2);
    wv = kiln_load_s8x4(w + row3);
    a3 = __smlad(__sxtb16(wv), xa, a3);
    a3 = __smlad(__sxtb16(kiln_ror8(wv)), xb, a3);
    wv = kiln_load_s8x4(w);
    a0 = __smlad(__sxtb16(wv), xa, a0);
    a0 = __smlad(__sxtb16(kiln_ror8(wv)), xb, a0);
    x += 2;
    w += 4;
  }
  for (d = 0; d < (depth & 3); ++d) { /* the tail: stage holds one value a word */
    const int32_t xv = stage[(depth & ~3) + d];
    a0 += (int32_t)w[d] * xv;
    a1 += (int32_t)w[row + (size_t)d] * xv;
    a2 += (int32_t)w[row2 + (size_t)d] * xv;
    a3 += (int32_t)w[row3 + (size_t)d] * xv;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}
#endif

/*
 * acc = sum_d (w + filter_offset) * (x + input_offset) + bias, computed as
 * sum_d w * (x + input_offset) + filter_offset * sum_d (x + input_offset) (exact integers), so the
 * inner loop is the plain int8 dot product; four units share each pass over the input row. The
 * requantization is the compiler's exact integer rescale when it found one (out_rescale), else
 * the emulated double rescale; for onnxruntime's requantization (a fused QDQ Gemm or MatMul) a
 * unit with no exact integer rescale has the float form in out_rescale (kiln_rescale_apply).
 */
void kiln_fully_connected_s8(const kiln_fc_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const int32_t input_offset = p->out.s8.input_offset;
  const int32_t filter_offset = p->out.s8.filter_offset;
  const int64_t output_offset = p->output_offset;
  const int64_t act_min = p->act_min;
  const int64_t act_max = p->act_max;
  const int32_t *rescale = p->out.s8.out_rescale;
  const int32_t entry_step = p->per_channel ? 1 : 0;
  kiln_rescale r = {0, 0, 0, 0};
#if UINTPTR_MAX <= 0xffffffffu
  const int32_t low = p->act_min - p->output_offset;
  const int32_t high = p->act_max - p->output_offset;
#endif
  int32_t b;
#if KILN_FC_DSP
  int32_t stage[KILN_FC_DSP_DEPTH_MAX / 2 + 4];
  const int staged = depth <= KILN_FC_DSP_DEPTH_MAX;
#endif
  if (rescale != NULL) r = kiln_rescale_load_one(rescale); /* per-tensor: the only load */
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + (size_t)b * (size_t)depth;
    int32_t input_sum = 0;
    int32_t u;
    if (filter_offset != 0) {
      int32_t d;
      for (d = 0; d < depth; ++d) input_sum += (int32_t)in_row[d] + input_offset;
    }
#if KILN_FC_DSP
    if (staged) kiln_fc_stage_dsp(in_row, depth, input_offset, stage);
#endif
    for (u = 0; u < units; u += 4) {
      const int32_t block = units - u < 4 ? units - u : 4;
      int32_t acc[4];
      int32_t j;
#if KILN_FC_DSP && KILN_FC_S8_PORTABLE_USED
      if (staged && block == 4) {
        kiln_fc_dot4_dsp(filter + (size_t)u * (size_t)depth, depth, stage, acc);
      } else {
        kiln_fc_rows_s8(filter + (size_t)u * (size_t)depth, depth, in_row, input_offset, block, acc);
      }
#elif KILN_FC_DSP
      /* every block is the DSP path's (KILN_FC_S8_PORTABLE_USED) */
      kiln_fc_dot4_dsp(filter + (size_t)u * (size_t)depth, depth, stage, acc);
#else
      kiln_fc_rows_s8(filter + (size_t)u * (size_t)depth, depth, in_row, input_offset, block, acc);
#endif
      for (j = 0; j < block; ++j) {
        const int32_t unit = u + j;
        int32_t a = acc[j] + filter_offset * input_sum;
        int64_t y;
        if (bias != NULL) a += bias[unit];
        if (rescale != NULL) {
          if (entry_step != 0) r = kiln_rescale_load(rescale + (size_t)unit * KILN_RESCALE_WORDS);
#if UINTPTR_MAX > 0xffffffffu
          y = kiln_rescale_apply(a, &r); /* a 64-bit host shifts 64 bits in one instruction */
#else
          if (r.shift >= 32) {
            /* an int32 result: compared with the clamp bounds less the zero point (|bound| <=
             * 255), so the zero point is added only inside the range: no 64-bit compares */
            const int32_t h = kiln_linear_rescale_high(a, &r);
            output[unit] = h < low ? (int8_t)p->act_min
                         : h > high ? (int8_t)p->act_max : (int8_t)(h + p->output_offset);
            continue;
          }
          /* the float form (onnxruntime's, shift KILN_RESCALE_FLOAT) is told apart only here */
          y = kiln_rescale_apply(a, &r);
#endif
        } else {
          y = kiln_f64_rescale_inline(a, p->out.s8.out_scale + (unit * entry_step) * KILN_F64_WORDS);
        }
        output[unit] = kiln_clamp_s8(y + output_offset, act_min, act_max);
      }
    }
    output += units;
  }
}

void kiln_fully_connected_f32(const kiln_fc_params *p, const float *input, const float *filter,
                              const float *bias, float *output) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const float act_min = p->out.f32.act_min_f;
  const float act_max = p->out.f32.act_max_f;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_row = input + (size_t)b * (size_t)depth;
    int32_t u;
    for (u = 0; u < units; u += 4) {
      const int32_t block = units - u < 4 ? units - u : 4;
      const float *rows = filter + (size_t)u * (size_t)depth;
      float total[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      int32_t j;
      if (block == 4) {
        kiln_dot4_f32(rows, (size_t)depth, in_row, depth, total);
      } else {
        for (j = 0; j < block; ++j) {
          total[j] = kiln_dot_f32(rows + (size_t)j * (size_t)depth, in_row, depth, 0.0f);
        }
      }
      for (j = 0; j < block; ++j) {
        float value = total[j];
        if (bias != NULL) value += bias[u + j];
        output[u + j] = kiln_clamp_f32(value, act_min, act_max);
      }
    }
    output += units;
  }
}

void kiln_fully_connected_hybrid_f32(const kiln_fc_params *p, const float *input,
                                     const int8_t *filter, const float *bias, float *output,
                                     void *scratch) {
  const int32_t depth = p->depth;
  const int32_t units = p->units;
  const float act_min = p->out.f32.act_min_f;
  const float act_max = p->out.f32.act_max_f;
  int8_t *quantized = (int8_t *)scratch;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_row = input + (size_t)b * (size_t)depth;
    int32_t zero_point = 0;
    float row_scale;
    int32_t u;
    if (p->asymmetric) {
      row_scale = kiln_quantize_asymmetric(in_row, depth, quantized, &zero_point);
    } else {
      row_scale = kiln_quantize_symmetric(in_row, depth, quantized);
    }
    for (u = 0; u < units; u += 4) {
      const int32_t block = units - u < 4 ? units - u : 4;
      int32_t acc[4];
      int32_t j;
      kiln_fc_rows_s8(filter + (size_t)u * (size_t)depth, depth, quantized, -zero_point, block, acc);
      for (j = 0; j < block; ++j) {
        const int32_t unit = u + j;
        const float weight_scale =
            p->per_channel ? p->out.f32.filter.scales[unit] : p->out.f32.filter.scale;
        const float scale = row_scale * weight_scale;
        float value = (float)acc[j] * scale;
        if (bias != NULL) value += bias[unit];
        output[unit] = kiln_clamp_f32(value, act_min, act_max);
      }
    }
    output += units;
  }
}
