/*
 * Gather-style data movement, SPACE_TO_BATCH_ND, RESIZE_BILINEAR, L2_NORMALIZATION,
 * LOCAL_RESPONSE_NORMALIZATION, L2_POOL_2D and the int16 pools (TF 2.21 reference kernels).
 * See kiln_reduce.h.
 */
#include <math.h>
#include <string.h>

#include "kiln_fixedpoint.h"
#include "kiln_nn_util.h"
#include "kiln_reduce.h"

void kiln_index_table(const kiln_index_table_params *p, const int32_t *table, const void *input, const void *pad_value,
                 void *output) {
  const unsigned char *in = (const unsigned char *)input;
  unsigned char *out = (unsigned char *)output;
  const size_t bytes = (size_t)p->element_bytes;
  const int32_t *t0 = table + p->table_start[0];
  const int32_t *t1 = table + p->table_start[1];
  const int32_t *t2 = table + p->table_start[2];
  const int32_t *t3 = table + p->table_start[3];
  const int32_t *t4 = table + p->table_start[4];
  const int32_t *t5 = table + p->table_start[5];
  int32_t i0, i1, i2, i3, i4, i5;
  for (i0 = 0; i0 < p->out_dims[0]; ++i0) {
    for (i1 = 0; i1 < p->out_dims[1]; ++i1) {
      for (i2 = 0; i2 < p->out_dims[2]; ++i2) {
        for (i3 = 0; i3 < p->out_dims[3]; ++i3) {
          for (i4 = 0; i4 < p->out_dims[4]; ++i4) {
            const int pad_row = t0[i0] < 0 || t1[i1] < 0 || t2[i2] < 0 || t3[i3] < 0 || t4[i4] < 0;
            const size_t row = pad_row ? 0 : (size_t)t0[i0] + (size_t)t1[i1] + (size_t)t2[i2] + (size_t)t3[i3] +
                                                 (size_t)t4[i4];
            for (i5 = 0; i5 < p->out_dims[5]; ++i5) {
              if (pad_row || t5[i5] < 0) {
                memcpy(out, pad_value, bytes);
              } else {
                memcpy(out, in + (row + (size_t)t5[i5]) * bytes, bytes);
              }
              out += bytes;
            }
          }
        }
      }
    }
  }
}

void kiln_space_to_batch(const kiln_space_to_batch_params *p, const void *input, const void *pad_value, void *output) {
  const unsigned char *in = (const unsigned char *)input;
  unsigned char *out = (unsigned char *)output;
  const size_t bytes = (size_t)p->element_bytes;
  const size_t pixel = (size_t)p->depth * bytes;
  int32_t ob;
  for (ob = 0; ob < p->out_batch; ++ob) {
    const int32_t ib = ob % p->in_batch;
    const int32_t shift_w = (ob / p->in_batch) % p->block_w;
    const int32_t shift_h = (ob / p->in_batch) / p->block_w;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t iy = oy * p->block_h + shift_h - p->pad_top;
      int32_t ox;
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t ix = ox * p->block_w + shift_w - p->pad_left;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
          int32_t c;
          for (c = 0; c < p->depth; ++c) memcpy(out + (size_t)c * bytes, pad_value, bytes);
        } else {
          memcpy(out, in + (((size_t)ib * (size_t)p->in_h + (size_t)iy) * (size_t)p->in_w + (size_t)ix) * (size_t)pixel, pixel);
        }
        out += pixel;
      }
    }
  }
}

/* reference_ops::ResizeBilinear, float: the four products summed in the reference's order. */
void kiln_resize_bilinear_f32(const kiln_resize_params *p, const int32_t *y0, const int32_t *y1, const float *wy,
                              const int32_t *x0, const int32_t *x1, const float *wx, const float *input,
                              float *output) {
  const int32_t c_n = p->channels;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)c_n;
    int32_t y;
    for (y = 0; y < p->out_h; ++y) {
      const float dy = wy[y];
      const float *row0 = image + (size_t)y0[y] * (size_t)p->in_w * (size_t)c_n;
      const float *row1 = image + (size_t)y1[y] * (size_t)p->in_w * (size_t)c_n;
      int32_t x;
      for (x = 0; x < p->out_w; ++x) {
        const float dx = wx[x];
        const float *a = row0 + (size_t)x0[x] * (size_t)c_n;
        const float *bl = row1 + (size_t)x0[x] * (size_t)c_n;
        const float *c0 = row0 + (size_t)x1[x] * (size_t)c_n;
        const float *d = row1 + (size_t)x1[x] * (size_t)c_n;
        int32_t c;
        for (c = 0; c < c_n; ++c) {
          *output++ = a[c] * (1 - dy) * (1 - dx) + bl[c] * dy * (1 - dx) + c0[c] * (1 - dy) * dx + d[c] * dy * dx;
        }
      }
    }
  }
}

/*
 * reference_ops::ResizeBilinearInteger: weights in 1/1024 steps, the 2^20-scaled sum in int64,
 * divided by 2^20 rounding half away from zero (TF 2.21's double-rounding build).
 */
static int32_t kiln_bilinear_round(int64_t v) {
  const int64_t round = v > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
  return (int32_t)((v + round) / ((int64_t)1 << 20));
}

#define KILN_DEFINE_BILINEAR_INT(name, T)                                                                 \
  void name(const kiln_resize_params *p, const int32_t *y0, const int32_t *y1, const int32_t *wy,         \
            const int32_t *x0, const int32_t *x1, const int32_t *wx, const T *input, T *output) {         \
    const int32_t c_n = p->channels;                                                                     \
    int32_t b;                                                                                           \
    for (b = 0; b < p->batches; ++b) {                                                                   \
      const T *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)c_n;                                      \
      int32_t y;                                                                                         \
      for (y = 0; y < p->out_h; ++y) {                                                                   \
        const int64_t fy = wy[y];                                                                        \
        const T *row0 = image + (size_t)y0[y] * (size_t)p->in_w * (size_t)c_n;                                           \
        const T *row1 = image + (size_t)y1[y] * (size_t)p->in_w * (size_t)c_n;                                           \
        int32_t x;                                                                                       \
        for (x = 0; x < p->out_w; ++x) {                                                                 \
          const int64_t fx = wx[x];                                                                      \
          const T *a = row0 + (size_t)x0[x] * (size_t)c_n;                                                       \
          const T *bl = row1 + (size_t)x0[x] * (size_t)c_n;                                                      \
          const T *c0 = row0 + (size_t)x1[x] * (size_t)c_n;                                                      \
          const T *d = row1 + (size_t)x1[x] * (size_t)c_n;                                                       \
          int32_t c;                                                                                     \
          for (c = 0; c < c_n; ++c) {                                                                    \
            const int64_t sum = (int64_t)a[c] * (1024 - fy) * (1024 - fx) + (int64_t)bl[c] * fy * (1024 - fx) + \
                                (int64_t)c0[c] * (1024 - fy) * fx + (int64_t)d[c] * fy * fx;             \
            *output++ = (T)kiln_bilinear_round(sum);                                                     \
          }                                                                                              \
        }                                                                                                \
      }                                                                                                  \
    }                                                                                                    \
  }

KILN_DEFINE_BILINEAR_INT(kiln_resize_bilinear_s8, int8_t)
KILN_DEFINE_BILINEAR_INT(kiln_resize_bilinear_s16, int16_t)

void kiln_l2_normalization_f32(int32_t outer, int32_t depth, const float *input, float *output) {
  int32_t i;
  for (i = 0; i < outer; ++i) {
    const float *x = input + (size_t)i * (size_t)depth;
    float *y = output + (size_t)i * (size_t)depth;
    float squared = 0.0f;
    float norm;
    int32_t c;
    for (c = 0; c < depth; ++c) squared += x[c] * x[c];
    norm = sqrtf(squared);
    if (norm < 1e-6f) norm = 1e-6f;
    for (c = 0; c < depth; ++c) y[c] = x[c] / norm;
  }
}

/*
 * reference_integer_ops::L2Normalization: the int32 sum of (x - z)^2, its inverse square root as a
 * multiplier, and each output MBQM(x - z, multiplier, shift + 7) in the output's 1/128 scale.
 */
void kiln_l2_normalization_s8(int32_t outer, int32_t depth, int32_t input_zero_point, const int8_t *input,
                              int8_t *output) {
  int32_t i;
  for (i = 0; i < outer; ++i) {
    const int8_t *x = input + (size_t)i * (size_t)depth;
    int8_t *y = output + (size_t)i * (size_t)depth;
    int32_t acc = 0;
    int32_t multiplier;
    int32_t shift;
    int32_t c;
    for (c = 0; c < depth; ++c) {
      const int32_t v = x[c] - input_zero_point;
      acc += v * v;
    }
    kiln_inv_sqrt_multiplier(acc, &multiplier, &shift);
    for (c = 0; c < depth; ++c) {
      const int32_t v = kiln_mbqm(x[c] - input_zero_point, multiplier, shift + 7);
      y[c] = (int8_t)kiln_clamp_i32(v, -128, 127);
    }
  }
}

void kiln_lrn_f32(const kiln_lrn_params *p, const float *input, float *output) {
  int32_t i;
  for (i = 0; i < p->outer; ++i) {
    const float *x = input + (size_t)i * (size_t)p->depth;
    float *y = output + (size_t)i * (size_t)p->depth;
    int32_t c;
    for (c = 0; c < p->depth; ++c) {
      const int32_t begin = c - p->radius < 0 ? 0 : c - p->radius;
      /* TFLite's reference sums channels [c - radius, c + radius): one fewer above c than TensorFlow */
      const int32_t end = c + p->radius > p->depth ? p->depth : c + p->radius;
      float accum = 0.0f;
      int32_t k;
      for (k = begin; k < end; ++k) accum += x[k] * x[k];
      y[c] = x[c] * powf(p->bias + p->alpha * accum, -p->beta);
    }
  }
}

/* The in-image taps of one output pixel: rows [*fy0, *fy1), columns [*fx0, *fx1) of the window. */
static void kiln_pool_window(const kiln_pool_params *p, int32_t oy, int32_t ox, int32_t *fy0, int32_t *fy1,
                             int32_t *fx0, int32_t *fx1) {
  kiln_tap_range(oy * p->stride_h - p->pad_top, 1, p->filter_h, p->in_h, fy0, fy1);
  kiln_tap_range(ox * p->stride_w - p->pad_left, 1, p->filter_w, p->in_w, fx0, fx1);
}

/* reference_ops::L2Pool: per channel, the squares summed over fy then fx, then sqrt(sum / count). */
void kiln_l2_pool_f32(const kiln_pool_params *p, const float *input, float *output) {
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t ox;
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t fy0, fy1, fx0, fx1, c;
        kiln_pool_window(p, oy, ox, &fy0, &fy1, &fx0, &fx1);
        for (c = 0; c < p->channels; ++c) {
          float sum = 0.0f;
          int32_t count = 0;
          int32_t fy, fx;
          for (fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = oy * p->stride_h - p->pad_top + fy;
            for (fx = fx0; fx < fx1; ++fx) {
              const int32_t ix = ox * p->stride_w - p->pad_left + fx;
              const float v = input[(((size_t)b * (size_t)p->in_h + (size_t)iy) * (size_t)p->in_w + (size_t)ix) * (size_t)p->channels + (size_t)c];
              sum += v * v;
              ++count;
            }
          }
          *output++ = kiln_clamp_f32(sqrtf(sum / (float)count), p->act_min_f, p->act_max_f);
        }
      }
    }
  }
}

void kiln_max_pool_s16(const kiln_pool_params *p, const int16_t *input, int16_t *output) {
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t ox;
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t fy0, fy1, fx0, fx1, c;
        kiln_pool_window(p, oy, ox, &fy0, &fy1, &fx0, &fx1);
        for (c = 0; c < p->channels; ++c) {
          int32_t max = INT16_MIN;
          int32_t fy, fx;
          for (fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = oy * p->stride_h - p->pad_top + fy;
            for (fx = fx0; fx < fx1; ++fx) {
              const int32_t ix = ox * p->stride_w - p->pad_left + fx;
              const int32_t v = input[(((size_t)b * (size_t)p->in_h + (size_t)iy) * (size_t)p->in_w + (size_t)ix) * (size_t)p->channels + (size_t)c];
              if (v > max) max = v;
            }
          }
          *output++ = (int16_t)kiln_clamp_i32(max, p->act_min, p->act_max);
        }
      }
    }
  }
}

/* reference_integer_ops::AveragePool (int16): the int32 sum divided rounding half away from zero. */
void kiln_avg_pool_s16(const kiln_pool_params *p, const int16_t *input, int16_t *output) {
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t ox;
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t fy0, fy1, fx0, fx1, c;
        int32_t count;
        kiln_pool_window(p, oy, ox, &fy0, &fy1, &fx0, &fx1);
        if (fx1 == fx0) fy1 = fy0;
        count = (fy1 - fy0) * (fx1 - fx0);
        for (c = 0; c < p->channels; ++c) {
          int32_t sum = 0;
          int32_t average = 0;
          int32_t fy, fx;
          for (fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = oy * p->stride_h - p->pad_top + fy;
            for (fx = fx0; fx < fx1; ++fx) {
              const int32_t ix = ox * p->stride_w - p->pad_left + fx;
              sum += input[(((size_t)b * (size_t)p->in_h + (size_t)iy) * (size_t)p->in_w + (size_t)ix) * (size_t)p->channels + (size_t)c];
            }
          }
          if (count > 0) average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          *output++ = (int16_t)kiln_clamp_i32(average, p->act_min, p->act_max);
        }
      }
    }
  }
}
