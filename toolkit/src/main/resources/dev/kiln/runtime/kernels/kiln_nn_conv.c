/*
 * CONV_2D (int8, float32, hybrid) and DEPTHWISE_CONV_2D (int8, float32).
 * tflite-numerics.md sections 2.1, 3.1, 3.2 and 9.
 *
 * The kernels compute what TFLite's reference kernels compute, output element by output element,
 * with changes that only make them faster: the filter window is clipped to the image once per
 * output pixel (kiln_tap_range) so no tap is bounds-tested; the taps of one filter row, when
 * adjacent in the input (dilation 1, no groups), are one contiguous dot product, and small
 * windows are first gathered into one contiguous run; four output channels are computed together
 * so each input value is loaded once for four filters; the int8 dot products are written so that
 * gcc -O2 vectorizes them (kiln_nn_util.h). Integer sums are exact (order-free); every float32
 * total is still accumulated in the reference order fy, fx, ci from 0.0f, with the bias added
 * after the sum.
 *
 * int32 accumulators: an int8 product with the input offset is at most 128 * 255 in magnitude, so
 * up to 2^16 taps x channels fit in 31 bits (as in TFLite). Kiln's compiler refuses, before any
 * code is generated, requantizations whose left shift (multiplier >= 1) could overflow.
 */
#include "kiln_fixedpoint.h"
#include "kiln_nn.h"
#include "kiln_nn_util.h"

/* Per-call constants of a (grouped) CONV_2D. */
typedef struct {
  int32_t filter_c;        /* input channels per group = filter depth */
  int32_t out_c_per_group;
  int32_t row_stride;      /* input elements per image row */
  int32_t image_size;      /* input elements per batch image */
  int32_t filter_row;      /* filter elements per filter row */
  int32_t filter_size;     /* filter elements per output channel */
  int32_t in_row_step;     /* input elements between two filter rows */
  int32_t in_col_step;     /* input elements between two taps of a row */
  int contiguous;          /* the taps of a row are adjacent in the input and the filter */
  int gather;              /* copy each window to a contiguous buffer first (see below) */
} kiln_conv_geometry;

/*
 * Windows of at most KILN_CONV_GATHER_MAX int8 values (KILN_CONV_GATHER_MAX_F32 floats) whose
 * filter rows are not already one contiguous run are first copied ("im2col" for one output pixel)
 * into a stack buffer, so the dot products run over the whole window at once. int8: taps in the
 * padding are filled with the value whose offset input is 0 (the input zero point), which adds
 * exactly nothing, as skipping them does. float32: only windows entirely inside the image are
 * gathered, so the float sums keep exactly the reference terms and order.
 */
#define KILN_CONV_GATHER_MAX 256
#define KILN_CONV_GATHER_MAX_F32 64

static kiln_conv_geometry kiln_conv_geometry_of(const kiln_conv_params *p) {
  kiln_conv_geometry g;
  g.filter_c = p->in_c / p->groups;
  g.out_c_per_group = p->out_c / p->groups;
  g.row_stride = p->in_w * p->in_c;
  g.image_size = p->in_h * g.row_stride;
  g.filter_row = p->filter_w * g.filter_c;
  g.filter_size = p->filter_h * g.filter_row;
  g.in_row_step = p->dilation_h * g.row_stride;
  g.in_col_step = p->dilation_w * p->in_c;
  g.contiguous = p->dilation_w == 1 && g.filter_c == p->in_c;
  g.gather = !(g.contiguous && p->filter_h == 1);
  return g;
}

/* Copies the full filter window at (in_y0, in_x0) of channels [c0, c0 + filter_c) to col. */
static void kiln_conv_gather_s8(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                const int8_t *in_image, int32_t in_y0, int32_t in_x0, int32_t c0,
                                int8_t pad, int8_t *col) {
  int32_t fy;
  for (fy = 0; fy < p->filter_h; ++fy) {
    const int32_t iy = in_y0 + fy * p->dilation_h;
    int32_t fx;
    for (fx = 0; fx < p->filter_w; ++fx) {
      const int32_t ix = in_x0 + fx * p->dilation_w;
      int32_t ci;
      if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
        const int8_t *src = in_image + (size_t)iy * g->row_stride + (size_t)ix * p->in_c + c0;
        for (ci = 0; ci < g->filter_c; ++ci) col[ci] = src[ci];
      } else {
        for (ci = 0; ci < g->filter_c; ++ci) col[ci] = pad;
      }
      col += g->filter_c;
    }
  }
}

/* The same for float32, for windows entirely inside the image. */
static void kiln_conv_gather_f32(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                 const float *in_image, int32_t in_y0, int32_t in_x0, int32_t c0,
                                 float *col) {
  int32_t fy;
  for (fy = 0; fy < p->filter_h; ++fy) {
    const float *src = in_image + (size_t)(in_y0 + fy * p->dilation_h) * g->row_stride +
                       (size_t)in_x0 * p->in_c + c0;
    int32_t fx;
    for (fx = 0; fx < p->filter_w; ++fx) {
      int32_t ci;
      for (ci = 0; ci < g->filter_c; ++ci) col[ci] = src[ci];
      src += g->in_col_step;
      col += g->filter_c;
    }
  }
}

/* One filter-row segment of n taps x channels for `channels` (1..4) consecutive filters. */
static void kiln_conv_segment_s8(const int8_t *filter, int32_t filter_size, const int8_t *in,
                                 int32_t n, int32_t x_offset, int32_t channels, int32_t *acc) {
  if (channels == 4) {
    kiln_dot4_s8(filter, (size_t)filter_size, in, n, x_offset, acc);
  } else {
    int32_t j;
    for (j = 0; j < channels; ++j) {
      acc[j] += kiln_dot_s8(filter + (size_t)j * filter_size, in, n, x_offset);
    }
  }
}

/*
 * int32 sums over a clipped window (rows x cols taps; in and filter point at its first tap) of
 * filter * (input + x_offset) for `channels` consecutive output channels, added to acc.
 */
static void kiln_conv_window_s8(const kiln_conv_geometry *g, const int8_t *in, const int8_t *filter,
                                int32_t rows, int32_t cols, int32_t x_offset, int32_t channels,
                                int32_t *acc) {
  int32_t r;
  for (r = 0; r < rows; ++r) {
    if (g->contiguous) {
      kiln_conv_segment_s8(filter, g->filter_size, in, cols * g->filter_c, x_offset, channels, acc);
    } else {
      int32_t c;
      for (c = 0; c < cols; ++c) {
        kiln_conv_segment_s8(filter + c * g->filter_c, g->filter_size, in + c * g->in_col_step,
                             g->filter_c, x_offset, channels, acc);
      }
    }
    in += g->in_row_step;
    filter += g->filter_row;
  }
}

/* The same in float32; totals continue across rows, so each follows the order fy, fx, ci. */
static void kiln_conv_window_f32(const kiln_conv_geometry *g, const float *in, const float *filter,
                                 int32_t rows, int32_t cols, int32_t channels, float *total) {
  int32_t r;
  for (r = 0; r < rows; ++r) {
    const int32_t segments = g->contiguous ? 1 : cols;
    const int32_t n = g->contiguous ? cols * g->filter_c : g->filter_c;
    int32_t c;
    for (c = 0; c < segments; ++c) {
      const float *f = filter + c * g->filter_c;
      const float *x = in + c * g->in_col_step;
      if (channels == 4) {
        kiln_dot4_f32(f, (size_t)g->filter_size, x, n, total);
      } else {
        int32_t j;
        for (j = 0; j < channels; ++j) {
          total[j] = kiln_dot_f32(f + (size_t)j * g->filter_size, x, n, total[j]);
        }
      }
    }
    in += g->in_row_step;
    filter += g->filter_row;
  }
}

/* What happens to a CONV_2D accumulator: int8 requantization or one of the hybrid rescales. */
typedef enum { KILN_CONV_INT8, KILN_CONV_HYBRID, KILN_CONV_HYBRID_PER_CHANNEL } kiln_conv_mode;

typedef struct {
  kiln_conv_mode mode;
  int32_t x_offset;        /* added to every input code */
  const int32_t *bias_i32; /* int8 */
  int8_t *out_i8;
  const float *bias_f32;   /* hybrid */
  float *out_f32;
  float scale;             /* hybrid: input scale (x filter scale for the per-tensor form) */
} kiln_conv_epilogue;

/*
 * CONV_2D over one int8 batch image (input codes, or the quantized image of the hybrid forms);
 * returns e with its output pointer advanced past the image's outputs.
 */
static kiln_conv_epilogue kiln_conv_image_s8(const kiln_conv_params *p,
                                             const kiln_conv_geometry *g, const int8_t *in_image,
                                             const int8_t *filter, kiln_conv_epilogue e) {
  const int gather = g->gather && g->filter_size <= KILN_CONV_GATHER_MAX;
  const int8_t pad = (int8_t)kiln_clamp_i32(-e.x_offset, -128, 127);
  const kiln_conv_mode mode = e.mode;
  const int32_t x_offset = e.x_offset;
  const int32_t *bias_i32 = e.bias_i32;
  const float *bias_f32 = e.bias_f32;
  const float scale = e.scale;
  const int32_t out_c = p->out_c;
  const int32_t *out_multiplier = p->out_multiplier;
  const int32_t *out_shift = p->out_shift;
  const int32_t output_offset = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
  const float *filter_scales = p->filter_scales;
  const float act_min_f = p->act_min_f;
  const float act_max_f = p->act_max_f;
  int8_t *out_i8 = e.out_i8;
  float *out_f32 = e.out_f32;
  int8_t col[KILN_CONV_GATHER_MAX];
  int32_t oy;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t in_y0 = oy * p->stride_h - p->pad_top;
    int32_t fy0;
    int32_t fy1;
    int32_t ox;
    kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t in_x0 = ox * p->stride_w - p->pad_left;
      int32_t fx0;
      int32_t fx1;
      int32_t group;
      kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
      for (group = 0; group < p->groups; ++group) {
        const int32_t oc_end = (group + 1) * g->out_c_per_group;
        const int8_t *in_first = NULL;
        int32_t oc;
        if (gather) {
          kiln_conv_gather_s8(p, g, in_image, in_y0, in_x0, group * g->filter_c, pad, col);
        } else if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g->row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g->filter_c;
        }
        for (oc = group * g->out_c_per_group; oc < oc_end; oc += 4) {
          const int32_t channels = oc_end - oc < 4 ? oc_end - oc : 4;
          int32_t acc[4] = {0, 0, 0, 0};
          int32_t j;
          if (gather) {
            kiln_conv_segment_s8(filter + (size_t)oc * g->filter_size, g->filter_size, col,
                                 g->filter_size, x_offset, channels, acc);
          } else if (in_first != NULL) {
            const int8_t *filter_first =
                filter + (size_t)oc * g->filter_size + fy0 * g->filter_row + fx0 * g->filter_c;
            kiln_conv_window_s8(g, in_first, filter_first, fy1 - fy0, fx1 - fx0, x_offset,
                                channels, acc);
          }
          if (mode == KILN_CONV_INT8) {
            for (j = 0; j < channels; ++j) {
              const int32_t c = oc + j;
              int32_t v = acc[j];
              if (bias_i32 != NULL) v += bias_i32[c];
              v = kiln_mbqm(v, out_multiplier[c], out_shift[c]) + output_offset;
              out_i8[c] = (int8_t)kiln_clamp_i32(v, act_min, act_max);
            }
          } else {
            for (j = 0; j < channels; ++j) {
              const int32_t c = oc + j;
              float value = (float)acc[j];
              if (mode == KILN_CONV_HYBRID_PER_CHANNEL) value = value * filter_scales[c];
              value = value * scale;
              if (bias_f32 != NULL) value += bias_f32[c];
              out_f32[c] = kiln_clamp_f32(value, act_min_f, act_max_f);
            }
          }
        }
      }
      if (mode == KILN_CONV_INT8) {
        out_i8 += out_c;
      } else {
        out_f32 += out_c;
      }
    }
  }
  e.out_i8 = out_i8;
  e.out_f32 = out_f32;
  return e;
}

void kiln_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  kiln_conv_epilogue e;
  int32_t b;
  e.mode = KILN_CONV_INT8;
  e.x_offset = p->input_offset;
  e.bias_i32 = bias;
  e.out_i8 = output;
  e.bias_f32 = NULL;
  e.out_f32 = NULL;
  e.scale = 0.0f;
  for (b = 0; b < p->batches; ++b) {
    e = kiln_conv_image_s8(p, &g, input + (size_t)b * g.image_size, filter, e);
  }
}

void kiln_conv_hybrid_f32(const kiln_conv_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  int8_t *in_image = (int8_t *)scratch;
  kiln_conv_epilogue e;
  int32_t b;
  e.mode = KILN_CONV_HYBRID;
  e.x_offset = 0;
  e.bias_i32 = NULL;
  e.out_i8 = NULL;
  e.bias_f32 = bias;
  e.out_f32 = output;
  for (b = 0; b < p->batches; ++b) {
    const float input_scale =
        kiln_quantize_symmetric(input + (size_t)b * g.image_size, g.image_size, in_image);
    e.scale = input_scale * p->filter_scale;
    e = kiln_conv_image_s8(p, &g, in_image, filter, e);
  }
}

void kiln_conv_hybrid_per_channel_f32(const kiln_conv_params *p, const float *input,
                                      const int8_t *filter, const float *bias, float *output,
                                      void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  int8_t *in_image = (int8_t *)scratch;
  kiln_conv_epilogue e;
  int32_t b;
  e.mode = KILN_CONV_HYBRID_PER_CHANNEL;
  e.bias_i32 = NULL;
  e.out_i8 = NULL;
  e.bias_f32 = bias;
  e.out_f32 = output;
  for (b = 0; b < p->batches; ++b) {
    int32_t zero_point;
    e.scale = kiln_quantize_asymmetric(input + (size_t)b * g.image_size, g.image_size, in_image,
                                       &zero_point);
    e.x_offset = -zero_point;
    e = kiln_conv_image_s8(p, &g, in_image, filter, e);
  }
}

void kiln_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                   const float *bias, float *output) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int gather = g.gather && g.filter_size <= KILN_CONV_GATHER_MAX_F32;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  float col[KILN_CONV_GATHER_MAX_F32];
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * g.image_size;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t group;
        int full;
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        full = fy0 == 0 && fy1 == p->filter_h && fx0 == 0 && fx1 == p->filter_w;
        for (group = 0; group < p->groups; ++group) {
          const int32_t oc_end = (group + 1) * g.out_c_per_group;
          const int gathered = gather && full;
          const float *in_first = NULL;
          int32_t oc;
          if (gathered) {
            kiln_conv_gather_f32(p, &g, in_image, in_y0, in_x0, group * g.filter_c, col);
          } else if (fy1 > fy0 && fx1 > fx0) {
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g.filter_c;
          }
          for (oc = group * g.out_c_per_group; oc < oc_end; oc += 4) {
            const int32_t channels = oc_end - oc < 4 ? oc_end - oc : 4;
            float total[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            int32_t j;
            if (gathered) {
              const float *f = filter + (size_t)oc * g.filter_size;
              if (channels == 4) {
                kiln_dot4_f32(f, (size_t)g.filter_size, col, g.filter_size, total);
              } else {
                for (j = 0; j < channels; ++j) {
                  total[j] = kiln_dot_f32(f + (size_t)j * g.filter_size, col, g.filter_size, 0.0f);
                }
              }
            } else if (in_first != NULL) {
              const float *filter_first =
                  filter + (size_t)oc * g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
              kiln_conv_window_f32(&g, in_first, filter_first, fy1 - fy0, fx1 - fx0, channels,
                                   total);
            }
            for (j = 0; j < channels; ++j) {
              float value = total[j];
              if (bias != NULL) value += bias[oc + j];
              output[oc + j] = kiln_clamp_f32(value, act_min, act_max);
            }
          }
        }
        output += p->out_c;
      }
    }
  }
}

/*
 * DEPTHWISE_CONV_2D. With depth multiplier 1 the channels of a tap are adjacent in the input and
 * the filter, so blocks of 16 channels are accumulated side by side over the window (each
 * channel still sums its taps in the order fy, fx); other multipliers take one channel at a time.
 */
#define KILN_DW_BLOCK 16

void kiln_depthwise_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output) {
  const int32_t in_c = p->in_c;
  const int32_t out_c = p->out_c;
  const int32_t depth_multiplier = p->depth_multiplier;
  const int32_t row_stride = p->in_w * in_c;
  const int32_t in_row_step = p->dilation_h * row_stride;
  const int32_t in_col_step = p->dilation_w * in_c;
  const int32_t filter_row = p->filter_w * out_c;
  const int32_t filter_col_step = out_c;
  const int32_t input_offset = p->input_offset;
  const int32_t output_offset = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
  const int32_t blocked = depth_multiplier == 1 ? out_c - out_c % KILN_DW_BLOCK : 0;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_image = input + (size_t)b * p->in_h * row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        const int8_t *in_first = NULL;
        const int8_t *filter_first = filter;
        int32_t fx0;
        int32_t fx1;
        int32_t oc;
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        } else {
          fy1 = fy0; /* no tap in the image */
        }
        for (oc = 0; oc < blocked; oc += KILN_DW_BLOCK) {
          int32_t acc[KILN_DW_BLOCK];
          int32_t fy;
          int k;
          for (k = 0; k < KILN_DW_BLOCK; ++k) acc[k] = 0;
          for (fy = fy0; fy < fy1; ++fy) {
            const int8_t *in_tap = in_first + (fy - fy0) * in_row_step + oc;
            const int8_t *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              for (k = 0; k < KILN_DW_BLOCK; ++k) {
                acc[k] += (int32_t)filter_tap[k] * (int16_t)(in_tap[k] + input_offset);
              }
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          for (k = 0; k < KILN_DW_BLOCK; ++k) {
            const int32_t c = oc + k;
            int32_t v = acc[k];
            if (bias != NULL) v += bias[c];
            v = kiln_mbqm(v, p->out_multiplier[c], p->out_shift[c]) + output_offset;
            output[c] = (int8_t)kiln_clamp_i32(v, act_min, act_max);
          }
        }
        for (oc = blocked; oc < out_c; ++oc) {
          const int32_t ic = oc / depth_multiplier;
          int32_t acc = 0;
          int32_t fy;
          for (fy = fy0; fy < fy1; ++fy) {
            const int8_t *in_tap = in_first + (fy - fy0) * in_row_step + ic;
            const int8_t *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              acc += (int32_t)filter_tap[0] * ((int32_t)in_tap[0] + input_offset);
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          if (bias != NULL) acc += bias[oc];
          acc = kiln_mbqm(acc, p->out_multiplier[oc], p->out_shift[oc]) + output_offset;
          output[oc] = (int8_t)kiln_clamp_i32(acc, act_min, act_max);
        }
        output += out_c;
      }
    }
  }
}

void kiln_depthwise_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                             const float *bias, float *output) {
  const int32_t in_c = p->in_c;
  const int32_t out_c = p->out_c;
  const int32_t depth_multiplier = p->depth_multiplier;
  const int32_t row_stride = p->in_w * in_c;
  const int32_t in_row_step = p->dilation_h * row_stride;
  const int32_t in_col_step = p->dilation_w * in_c;
  const int32_t filter_row = p->filter_w * out_c;
  const int32_t filter_col_step = out_c;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  const int32_t blocked = depth_multiplier == 1 ? out_c - out_c % KILN_DW_BLOCK : 0;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * p->in_h * row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        const float *in_first = NULL;
        const float *filter_first = filter;
        int32_t fx0;
        int32_t fx1;
        int32_t oc;
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        } else {
          fy1 = fy0;
        }
        for (oc = 0; oc < blocked; oc += KILN_DW_BLOCK) {
          float total[KILN_DW_BLOCK];
          int32_t fy;
          int k;
          for (k = 0; k < KILN_DW_BLOCK; ++k) total[k] = 0.0f;
          for (fy = fy0; fy < fy1; ++fy) {
            const float *in_tap = in_first + (fy - fy0) * in_row_step + oc;
            const float *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              for (k = 0; k < KILN_DW_BLOCK; ++k) {
                const float product = in_tap[k] * filter_tap[k];
                total[k] += product;
              }
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          for (k = 0; k < KILN_DW_BLOCK; ++k) {
            float value = total[k];
            if (bias != NULL) value += bias[oc + k];
            output[oc + k] = kiln_clamp_f32(value, act_min, act_max);
          }
        }
        for (oc = blocked; oc < out_c; ++oc) {
          const int32_t ic = oc / depth_multiplier;
          float total = 0.0f;
          int32_t fy;
          for (fy = fy0; fy < fy1; ++fy) {
            const float *in_tap = in_first + (fy - fy0) * in_row_step + ic;
            const float *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              const float product = in_tap[0] * filter_tap[0];
              total += product;
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          if (bias != NULL) total += bias[oc];
          output[oc] = kiln_clamp_f32(total, act_min, act_max);
        }
        output += out_c;
      }
    }
  }
}
