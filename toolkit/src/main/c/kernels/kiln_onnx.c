/*
 * Kiln kernel library: ONNX operators that no TFLite reference kernel
 * computes. See kiln_onnx.h.
 */
#include "kiln_onnx.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void kiln_erf_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = erff(x[i]);
}

/*
 * TopK by insertion: the line is read once, front to back; an element enters the kept list (best
 * first, at most k long) at the position behind every entry it does not strictly beat, so equal
 * values keep their order of position (ONNX: the lower index first). Most elements lose to the
 * current k-th entry after one comparison. NaN beats nothing, so it is kept only while fewer than
 * k entries are kept.
 */
#define KILN_DEFINE_TOPK(name, T)                                                                        \
  void name(const T *x, T *values, int64_t *indices, int32_t outer, int32_t size, int32_t inner,       \
            int32_t k, int32_t largest) {                                                              \
    int32_t o;                                                                                         \
    int32_t in;                                                                                        \
    for (o = 0; o < outer; ++o) {                                                                      \
      for (in = 0; in < inner; ++in) {                                                                 \
        const T *src = x + ((size_t)o * (size_t)size * (size_t)inner + (size_t)in);                    \
        T *val = values + ((size_t)o * (size_t)k * (size_t)inner + (size_t)in);                        \
        int64_t *idx = indices + ((size_t)o * (size_t)k * (size_t)inner + (size_t)in);                 \
        int32_t kept = 0;                                                                              \
        int32_t i;                                                                                     \
        for (i = 0; i < size; ++i) {                                                                   \
          const T v = src[(size_t)i * (size_t)inner];                                                  \
          int32_t p = kept;                                                                            \
          int32_t j;                                                                                   \
          while (p > 0 && (largest ? v > val[(size_t)(p - 1) * (size_t)inner]                          \
                                   : v < val[(size_t)(p - 1) * (size_t)inner])) {                      \
            --p;                                                                                       \
          }                                                                                            \
          if (p >= k) continue;                                                                        \
          if (kept < k) ++kept;                                                                        \
          for (j = kept - 1; j > p; --j) {                                                             \
            val[(size_t)j * (size_t)inner] = val[(size_t)(j - 1) * (size_t)inner];                     \
            idx[(size_t)j * (size_t)inner] = idx[(size_t)(j - 1) * (size_t)inner];                     \
          }                                                                                            \
          val[(size_t)p * (size_t)inner] = v;                                                          \
          idx[(size_t)p * (size_t)inner] = i;                                                          \
        }                                                                                              \
      }                                                                                                \
    }                                                                                                  \
  }

KILN_DEFINE_TOPK(kiln_topk_f32, float)
KILN_DEFINE_TOPK(kiln_topk_s8, int8_t)
KILN_DEFINE_TOPK(kiln_topk_u8, uint8_t)
KILN_DEFINE_TOPK(kiln_topk_s16, int16_t)
KILN_DEFINE_TOPK(kiln_topk_s32, int32_t)
KILN_DEFINE_TOPK(kiln_topk_s64, int64_t)

/* ------------------------------------------------------------------------ */
/* onnxruntime's fused QDQ kernels (x86-64 MLAS and its contrib CPU ops)     */
/* ------------------------------------------------------------------------ */

/* v rounded half to even (cvtps_epi32, nearbyintf) after clamping to [lo, hi] */
static int32_t qlinear_round(float v, float lo, float hi) {
  int32_t t;
  float frac;
  if (!(v >= lo)) v = lo; /* NaN too */
  if (v > hi) v = hi;
  t = (int32_t)v; /* toward zero; |v| <= 512 */
  frac = v - (float)t;
  if (frac > 0.5f || (frac == 0.5f && (t & 1))) return t + 1;
  if (frac < -0.5f || (frac == -0.5f && (t & 1))) return t - 1;
  return t;
}

/* a code of the compute domain, stored as int8 */
static int8_t qlinear_store(int32_t code, int32_t code_offset) {
  const int32_t s = code - code_offset;
  return (int8_t)(s < -128 ? -128 : (s > 127 ? 127 : s));
}

void kiln_qlinear_global_avg_pool_s8(const kiln_qlinear_pool_params *p, const int8_t *x, int8_t *y) {
  const int32_t image = p->in_h * p->in_w;
  const int32_t c_count = p->channels;
  const int32_t bias = -(p->input_zero - p->code_offset) * image; /* the stored codes' zero point */
  const float lo = (float)(-128 + p->code_offset - p->output_zero);
  const float hi = (float)(127 + p->code_offset - p->output_zero);
  int32_t n;
  int32_t c;
  int32_t i;
  for (n = 0; n < p->batches; ++n) {
    const int8_t *in = x + (ptrdiff_t)n * image * c_count;
    for (c = 0; c < c_count; ++c) {
      int32_t acc = bias;
      for (i = 0; i < image; ++i) acc += in[(ptrdiff_t)i * c_count + c];
      /* float32(acc) is exact (|acc| < 2^24), the product rounds once */
      y[(ptrdiff_t)n * c_count + c] =
          qlinear_store(qlinear_round((float)acc * p->global_scale, lo, hi) + p->output_zero, p->code_offset);
    }
  }
}

/*
 * The sum onnxruntime takes is sum_i float32(s_x * d_i) in window order (d_i = code - z_x, |d_i| <=
 * 255; each product exact in double, rounded once to float32). With s_x = m 2^e (m the 24-bit
 * significand, an integer) every tap is float32(m d_i) 2^e, and float32 rounding commutes with
 * multiplying by a power of two while nothing is subnormal or overflows, so the sum is
 * (sum_i float32(m d_i)) 2^e: |m d_i| < 2^32 is a uint32 product whose conversion to float32
 * rounds like the product, and the scaling is exact. Same bits, without double arithmetic in the
 * loop: a library call per operation on cores without a double-precision FPU (Cortex-M0/M3/M4F,
 * RV32IMAC). Where double is hardware (64-bit hosts, double-precision FPUs) the double product is
 * cheaper and stays. Scales outside 2^-103 <= s_x < 2^23, where the argument would need subnormals
 * or a power of two float32 cannot hold, keep the double form too.
 */
#if UINTPTR_MAX > 0xffffffffu || (defined(__ARM_FP) && (__ARM_FP & 8)) || (defined(__riscv_flen) && __riscv_flen >= 64)
#define KILN_QLINEAR_POOL_SPLIT 0
#else
#define KILN_QLINEAR_POOL_SPLIT 1
#endif

static int qlinear_split_scale(float s, uint32_t *significand, float *power) {
  uint32_t bits;
  uint32_t e;
  if (!KILN_QLINEAR_POOL_SPLIT) return 0;
  memcpy(&bits, &s, sizeof bits);
  e = (bits >> 23) & 0xffu;
  if ((bits >> 31) != 0u || e < 24u || e > 149u) return 0;
  *significand = (bits & 0x7fffffu) | 0x800000u;
  bits = (e - 23u) << 23; /* 2^(e - 150): the significand's unit, a normal float32 */
  memcpy(power, &bits, sizeof bits);
  return 1;
}

void kiln_qlinear_avg_pool_s8(const kiln_qlinear_pool_params *p, const int8_t *x, int8_t *y) {
  const float lo = (float)(-128 + p->code_offset);
  const float hi = (float)(127 + p->code_offset);
  const float zero_out = (float)p->output_zero;
  uint32_t m = 0;
  float unit = 0.0f;
  const int split = qlinear_split_scale(p->input_scale, &m, &unit);
  int32_t n, oh, ow, c, h, w;
  for (n = 0; n < p->batches; ++n) {
    for (oh = 0; oh < p->out_h; ++oh) {
      const int32_t h0 = oh * p->stride_h - p->pad_top;
      const int32_t h_start = h0 < 0 ? 0 : h0;
      const int32_t h_end = h0 + p->filter_h < p->in_h ? h0 + p->filter_h : p->in_h;
      for (ow = 0; ow < p->out_w; ++ow) {
        const int32_t w0 = ow * p->stride_w - p->pad_left;
        const int32_t w_start = w0 < 0 ? 0 : w0;
        const int32_t w_end = w0 + p->filter_w < p->in_w ? w0 + p->filter_w : p->in_w;
        const int32_t count = p->count_include_pad ? p->filter_h * p->filter_w : (h_end - h_start) * (w_end - w_start);
        int8_t *out = y + (((ptrdiff_t)n * p->out_h + oh) * p->out_w + ow) * p->channels;
        for (c = 0; c < p->channels; ++c) {
          float sum = 0.0f;
          float avg;
          for (h = h_start; h < h_end; ++h) {
            for (w = w_start; w < w_end; ++w) {
              const int32_t d = x[(((ptrdiff_t)n * p->in_h + h) * p->in_w + w) * p->channels + c] + p->code_offset - p->input_zero;
              if (split) {
                /* float32(m |d|), signed after rounding (rounding to nearest is symmetric) */
                const float t = (float)(m * (uint32_t)(d < 0 ? -d : d));
                sum += d < 0 ? -t : t;
              } else {
                /* the dequantized tap rounded to float32 on its own (no fused multiply-add with the sum) */
                sum += (float)((double)p->input_scale * (double)d);
              }
            }
          }
          if (split) sum *= unit;
          avg = sum / (float)count;
          out[c] = qlinear_store(qlinear_round(avg / p->output_scale + zero_out, lo, hi), p->code_offset);
        }
      }
    }
  }
}

void kiln_qlinear_softmax_s8(const kiln_qlinear_softmax_params *p, const int8_t *x, int8_t *y) {
  int32_t r;
  int32_t i;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *in = x + (ptrdiff_t)r * p->depth;
    int8_t *out = y + (ptrdiff_t)r * p->depth;
    int32_t max = in[0];
    float sum = 0.0f;
    for (i = 1; i < p->depth; ++i) max = in[i] > max ? in[i] : max;
    for (i = 0; i < p->depth; ++i) sum += p->table[in[i] - max + 255];
    for (i = 0; i < p->depth; ++i) {
      const float e = p->table[in[i] - max + 255];
      const float v = e * p->output_scale / sum; /* (e * scale) / sum, two float32 roundings */
      out[i] = qlinear_store(qlinear_round(v, 0.0f, 512.0f) + p->output_zero, 0);
    }
  }
}

void kiln_qlinear_batch_matmul_s8(const kiln_bmm_params *p, float scale, const int8_t *x, const int8_t *y, int8_t *output) {
  const float lo = (float)(p->act_min - p->output_offset);
  const float hi = (float)(p->act_max - p->output_offset);
  int32_t b, i, j, k;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *xb = x + p->x_base[b];
    const int8_t *yb = y + p->y_base[b];
    int8_t *out = output + (ptrdiff_t)b * p->rows * p->cols;
    for (i = 0; i < p->rows; ++i) {
      for (j = 0; j < p->cols; ++j) {
        int32_t total = 0;
        for (k = 0; k < p->depth; ++k) {
          total += ((int32_t)xb[i * p->x_row_stride + k * p->x_depth_stride] + p->x_offset) *
                   ((int32_t)yb[j * p->y_col_stride + k * p->y_depth_stride] + p->y_offset);
        }
        out[i * p->cols + j] = qlinear_store(qlinear_round((float)total * scale, lo, hi) + p->output_offset, 0);
      }
    }
  }
}
