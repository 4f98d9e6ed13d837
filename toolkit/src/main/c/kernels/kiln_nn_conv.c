/*
 * CONV_2D (int8, float32, hybrid) and DEPTHWISE_CONV_2D (int8, float32).
 * tflite-numerics.md sections 2.1, 3.1, 3.2 and 9.
 *
 * The kernels compute what TFLite's reference kernels compute, output element by output element,
 * with changes that only make them faster: the filter window is clipped to the image once per
 * output pixel (kiln_tap_range) so no tap is bounds-tested; int8 and hybrid CONV_2D, given scratch
 * for it by the compiler (int8: scratch not NULL; hybrid: p->staged), stage the windows of
 * KILN_CONV_PIXELS output pixels at a time as int16 input + offset, padding taps as 0, so that
 * every output channel's filter is one contiguous dot product against all of them and each weight
 * is loaded and widened once per KILN_CONV_PIXELS pixels; otherwise the taps of one filter row,
 * when adjacent in the input, are one dot product, four output channels together so each input
 * value is loaded once for four filters; small float32 windows entirely inside the image are
 * gathered into one run; depthwise kernels
 * accumulate many channels side by side; the dot products and epilogues are written so
 * that gcc -O2 vectorizes them (kiln_nn_util.h). Integer sums are exact (order-free); every
 * float32 total is still accumulated in the reference order fy, fx, ci from 0.0f, with the bias
 * added after the sum.
 *
 * int32 accumulators: an int8 product with the input offset is at most 128 * 255 in magnitude, so
 * up to 2^16 taps x channels fit in 31 bits (as in TFLite). Kiln's compiler refuses, before any
 * code is generated, requantizations whose left shift (multiplier >= 1) could overflow.
 * Requantization is MBQM computed as one 64-bit product (kiln_mbqm_rescale), the same numbers.
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
  int gather;              /* float32: copy each window to a contiguous buffer first */
} kiln_conv_geometry;

/*
 * float32 windows of at most KILN_CONV_GATHER_MAX_F32 values whose filter rows are not already
 * one contiguous run are first copied ("im2col" for one output pixel) into a stack buffer, so the
 * dot products run over the whole window at once; only windows entirely inside the image are
 * gathered, so the float sums keep exactly the reference terms and order.
 */
#define KILN_CONV_GATHER_MAX_F32 64

/* Output channels whose int32 sums (per staged pixel) are held at once before requantization. */
#define KILN_CONV_CHUNK 32

/* int16 values per staged window: the window rounded up to a multiple of 16. */
static int32_t kiln_conv_stage_run(int32_t filter_size) { return (filter_size + 15) & ~15; }

/*
 * The requantization of output channel c: out_rescale when the compiler gave one (onnxruntime's
 * float requantization of a QDQ model: an exact integer rescale proven equal for every accumulator
 * the channel can produce, or, where none exists, that float arithmetic itself, the
 * KILN_RESCALE_FLOAT entries of kiln_rescale_apply), else TFLite's MBQM with out_multiplier and
 * out_shift.
 */
static inline kiln_rescale kiln_conv_rescale(const kiln_conv_params *p, int32_t c) {
  return p->out.s8.out_rescale != NULL
             ? kiln_rescale_load(p->out.s8.out_rescale + (size_t)c * KILN_RESCALE_WORDS)
             : kiln_mbqm_rescale(p->out.s8.out_multiplier[c], (int32_t)p->out.s8.out_shift[c]);
}

/* Whether channel rescales take the 32-bit form (MBQM proven in range, no onnxruntime table). */
static inline int kiln_conv_requant32(const kiln_conv_params *p) {
#if UINTPTR_MAX > 0xffffffffu
  /* a 64-bit host multiplies in 64 bits at no extra cost: kiln_mbqm_rescale's one product is cheaper */
  (void)p;
  return 0;
#elif !KILN_CONV_RESCALE64_USED && !defined(__ARM_FEATURE_DSP)
  /* every int8 convolution of this model takes the 32-bit form (KILN_CONV_RESCALE64_USED). Not
   * on a DSP core: there gcc 12 inlines the DSP kernels differently without the 64-bit branch and
   * they run more instructions (kws +17 K, ic +81 K on the Cortex-M4), so its build keeps the test */
  (void)p;
  return 1;
#else
  return p->requant32 != 0 && p->out.s8.out_rescale == NULL;
#endif
}

static inline kiln_requant32 kiln_conv_requant32_of(const kiln_conv_params *p, int32_t c) {
  return kiln_requant32_of(p->out.s8.out_multiplier[c], (int32_t)p->out.s8.out_shift[c]);
}

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

/*
 * Stages the window at (in_y0, in_x0) of channels [c0, c0 + filter_c) into col in filter order
 * (fy, fx, ci) as int16 input + x_offset; taps outside the image ([fy0, fy1) x [fx0, fx1) are the
 * ones inside) are 0, which adds exactly nothing, as skipping them does. col[filter_size ..
 * padded) is zeroed too.
 */
static void kiln_conv_stage_s8(const kiln_conv_params *p, const kiln_conv_geometry *g,
                               const int8_t *in_image, int32_t in_y0, int32_t in_x0, int32_t fy0,
                               int32_t fy1, int32_t fx0, int32_t fx1, int32_t c0, int32_t x_offset,
                               int32_t padded, int16_t *col) {
  const int32_t filter_c = g->filter_c;
  int32_t fy;
  int32_t k;
  for (fy = 0; fy < p->filter_h; ++fy) {
    int16_t *row = col + fy * g->filter_row;
    if (fy < fy0 || fy >= fy1 || fx1 <= fx0) {
      for (k = 0; k < g->filter_row; ++k) row[k] = 0;
    } else {
      const int8_t *src = in_image + (size_t)(in_y0 + fy * p->dilation_h) * (size_t)g->row_stride +
                          (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)p->in_c + c0;
      int32_t fx;
      for (k = 0; k < fx0 * filter_c; ++k) row[k] = 0;
      if (g->contiguous) {
        kiln_widen_s8(src, (fx1 - fx0) * filter_c, x_offset, row + fx0 * filter_c);
      } else {
        for (fx = fx0; fx < fx1; ++fx) {
          kiln_widen_s8(src + (size_t)(fx - fx0) * (size_t)g->in_col_step, filter_c, x_offset,
                        row + fx * filter_c);
        }
      }
      for (k = fx1 * filter_c; k < g->filter_row; ++k) row[k] = 0;
    }
  }
  for (k = g->filter_size; k < padded; ++k) col[k] = 0;
}

/* The same for float32, for windows entirely inside the image. */
static void kiln_conv_gather_f32(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                 const float *in_image, int32_t in_y0, int32_t in_x0, int32_t c0,
                                 float *col) {
  int32_t fy;
  for (fy = 0; fy < p->filter_h; ++fy) {
    const float *src = in_image + (size_t)(in_y0 + fy * p->dilation_h) * (size_t)g->row_stride +
                       (size_t)in_x0 * (size_t)p->in_c + c0;
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
      acc[j] += kiln_dot_s8(filter + (size_t)j * (size_t)filter_size, in, n, x_offset);
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
          total[j] = kiln_dot_f32(f + (size_t)j * (size_t)g->filter_size, x, n, total[j]);
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
 * Requantizes the int32 sums acc[0 .. count) of output channels [c0, c0 + count) of one output
 * pixel (bias not yet added) and stores them at out_i8 / out_f32 + c0.
 */
static void kiln_conv_store(const kiln_conv_params *p, const kiln_conv_epilogue *e, int32_t c0,
                            int32_t count, const int32_t *acc, int8_t *out_i8, float *out_f32) {
  int32_t j;
  if (e->mode == KILN_CONV_INT8) {
    const int32_t *bias = e->bias_i32 != NULL ? e->bias_i32 + c0 : NULL;
    const int64_t output_offset = p->output_offset;
    const int64_t act_min = p->act_min;
    const int64_t act_max = p->act_max;
    out_i8 += c0;
    if (kiln_conv_requant32(p)) {
      for (j = 0; j < count; ++j) {
        const kiln_requant32 r = kiln_conv_requant32_of(p, c0 + j);
        const int32_t v = acc[j] + (bias != NULL ? bias[j] : 0);
        out_i8[j] = kiln_clamp_s8_32(kiln_requant32_apply(v, &r) + p->output_offset, p->act_min,
                                     p->act_max);
      }
      return;
    }
    for (j = 0; j < count; ++j) {
      const kiln_rescale r = kiln_conv_rescale(p, c0 + j);
      const int32_t v = acc[j] + (bias != NULL ? bias[j] : 0);
      const int64_t y = kiln_rescale_apply(v, &r) + output_offset;
      out_i8[j] = kiln_clamp_s8(y, act_min, act_max);
    }
  } else {
    const float scale = e->scale;
    const float act_min = p->out.f32.act_min_f;
    const float act_max = p->out.f32.act_max_f;
    const float *bias = e->bias_f32 != NULL ? e->bias_f32 + c0 : NULL;
    const float *channel_scale =
        e->mode == KILN_CONV_HYBRID_PER_CHANNEL ? p->out.f32.filter.scales + c0 : NULL;
    int32_t i;
    int k;
    out_f32 += c0;
    if (channel_scale == NULL && bias != NULL) {
      /* the usual form, in blocks of 16 that gcc -O2 vectorizes (the bias block read into a local
         first: to the compiler the output may alias it, and gcc -O2 does not vectorize loops
         needing a run-time alias check), then the rest */
      for (i = 0; i + 16 <= count; i += 16) {
        float bias_block[16];
        for (k = 0; k < 16; ++k) bias_block[k] = bias[i + k];
        for (k = 0; k < 16; ++k) {
          float value = (float)acc[i + k] * scale;
          value += bias_block[k];
          out_f32[i + k] = kiln_clamp_f32(value, act_min, act_max);
        }
      }
      for (j = i; j < count; ++j) {
        float value = (float)acc[j] * scale;
        value += bias[j];
        out_f32[j] = kiln_clamp_f32(value, act_min, act_max);
      }
    } else {
      for (j = 0; j < count; ++j) {
        float value = (float)acc[j];
        if (channel_scale != NULL) value = value * channel_scale[j];
        value = value * scale;
        if (bias != NULL) value += bias[j];
        out_f32[j] = kiln_clamp_f32(value, act_min, act_max);
      }
    }
  }
}

/*
 * The int8 form of kiln_conv_store for the sums acc[q][0 .. count) of `pixels` consecutive output
 * pixels (output at out + q * out_c + c0 ...): each channel's rescale is prepared once for all.
 */
static void kiln_conv_store_s8(const kiln_conv_params *p, const int32_t *bias, int32_t c0,
                               int32_t count, int32_t acc[][KILN_CONV_CHUNK], int32_t pixels,
                               int8_t *out) {
  const int64_t output_offset = p->output_offset;
  const int64_t act_min = p->act_min;
  const int64_t act_max = p->act_max;
  const size_t out_c = (size_t)p->out_c;
  int32_t j;
  if (kiln_conv_requant32(p)) {
    for (j = 0; j < count; ++j) {
      const int32_t c = c0 + j;
      const kiln_requant32 r = kiln_conv_requant32_of(p, c);
      const int32_t b = bias != NULL ? bias[c] : 0;
      int32_t q;
      for (q = 0; q < pixels; ++q) {
        const int32_t y = kiln_requant32_apply(acc[q][j] + b, &r) + p->output_offset;
        out[(size_t)q * out_c + (size_t)c] = kiln_clamp_s8_32(y, p->act_min, p->act_max);
      }
    }
    return;
  }
  for (j = 0; j < count; ++j) {
    const int32_t c = c0 + j;
    const kiln_rescale r = kiln_conv_rescale(p, c);
    const int32_t b = bias != NULL ? bias[c] : 0;
    int32_t q;
#if KILN_RESCALE_FLOAT_USED
    if (r.shift == KILN_RESCALE_FLOAT) { /* decided once per channel */
      for (q = 0; q < pixels; ++q) {
        const int64_t y = (int64_t)kiln_float_rescale(acc[q][j] + b, r.multiplier) + output_offset;
        out[(size_t)q * out_c + (size_t)c] = kiln_clamp_s8(y, act_min, act_max);
      }
      continue;
    }
#endif
    for (q = 0; q < pixels; ++q) {
      const int64_t y = kiln_linear_rescale(acc[q][j] + b, &r) + output_offset;
      out[(size_t)q * out_c + (size_t)c] = kiln_clamp_s8(y, act_min, act_max);
    }
  }
}

/*
 * CONV_2D over one int8 batch image (input codes, or the quantized image of the hybrid forms),
 * staged: the windows of KILN_CONV_PIXELS (kiln_dot_s8_s16_x4's four) consecutive output pixels
 * are staged in `stage` (per group), then every output channel's filter is one contiguous dot
 * product against all of them.
 * Filters read the staged runs rounded up to 16 values (zeros at the end) when that stays inside
 * the filter array, so the dot products have no scalar tail.
 */
static void kiln_conv_image_staged_s8(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                      const int8_t *in_image, const int8_t *filter,
                                      const kiln_conv_epilogue *e, int16_t *stage) {
  const int32_t filter_size = g->filter_size;
  const int32_t padded = kiln_conv_stage_run(filter_size);
  const size_t filter_total = (size_t)p->out_c * (size_t)filter_size;
  const int32_t pixels = p->out_h * p->out_w;
  int32_t acc[KILN_CONV_PIXELS][KILN_CONV_CHUNK];
  int32_t first;
  int32_t first_y = 0; /* output coordinates of pixel `first` */
  int32_t first_x = 0;
  for (first = 0; first < pixels; first += KILN_CONV_PIXELS) {
    const int32_t count_px = pixels - first < KILN_CONV_PIXELS ? pixels - first : KILN_CONV_PIXELS;
    const size_t out_first = (size_t)first * (size_t)p->out_c;
    int32_t group;
    for (group = 0; group < p->groups; ++group) {
      const int32_t oc_end = (group + 1) * g->out_c_per_group;
      int32_t c0;
      int32_t q;
      int32_t oy = first_y;
      int32_t ox = first_x;
      for (q = 0; q < count_px; ++q, ++ox) {
        int32_t in_y0;
        int32_t in_x0;
        int32_t fy0;
        int32_t fy1;
        int32_t fx0;
        int32_t fx1;
        if (ox == p->out_w) {
          ox = 0;
          ++oy;
        }
        in_y0 = oy * p->stride_h - p->pad_top;
        in_x0 = ox * p->stride_w - p->pad_left;
        kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        kiln_conv_stage_s8(p, g, in_image, in_y0, in_x0, fy0, fy1, fx0, fx1,
                           group * g->filter_c, e->x_offset, padded, stage + (size_t)q * (size_t)padded);
      }
      if (group + 1 == p->groups) {
        first_y = ox == p->out_w ? oy + 1 : oy;
        first_x = ox == p->out_w ? 0 : ox;
      }
      for (c0 = group * g->out_c_per_group; c0 < oc_end; c0 += KILN_CONV_CHUNK) {
        const int32_t count = oc_end - c0 < KILN_CONV_CHUNK ? oc_end - c0 : KILN_CONV_CHUNK;
        int32_t j;
        for (j = 0; j < count; ++j) {
          const size_t row = (size_t)(c0 + j) * (size_t)filter_size;
          const int32_t n = row + (size_t)padded <= filter_total ? padded : filter_size;
          if (count_px == KILN_CONV_PIXELS) {
            int32_t sums[KILN_CONV_PIXELS];
            kiln_dot_s8_s16_x4(filter + row, stage, (size_t)padded, n, sums);
            for (q = 0; q < KILN_CONV_PIXELS; ++q) acc[q][j] = sums[q];
          } else {
            for (q = 0; q < count_px; ++q) {
              acc[q][j] = kiln_dot_s8_s16(filter + row, stage + (size_t)q * (size_t)padded, n);
            }
          }
        }
        if (e->mode == KILN_CONV_INT8) {
          kiln_conv_store_s8(p, e->bias_i32, c0, count, acc, count_px, e->out_i8 + out_first);
        } else {
          for (q = 0; q < count_px; ++q) {
            const size_t out = out_first + (size_t)q * (size_t)p->out_c;
            kiln_conv_store(p, e, c0, count, acc[q], NULL, e->out_f32 + out);
          }
        }
      }
    }
  }
}

/*
 * The same for larger windows: the clipped window is summed filter row by filter row from the
 * image, four output channels at a time.
 */
static void kiln_conv_image_rows_s8(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                    const int8_t *in_image, const int8_t *filter,
                                    const kiln_conv_epilogue *e) {
  int8_t *out_i8 = e->out_i8;
  float *out_f32 = e->out_f32;
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
        if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * (size_t)g->row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)p->in_c + group * g->filter_c;
        }
        for (oc = group * g->out_c_per_group; oc < oc_end; oc += 4) {
          const int32_t channels = oc_end - oc < 4 ? oc_end - oc : 4;
          int32_t acc[4] = {0, 0, 0, 0};
          if (in_first != NULL) {
            const int8_t *filter_first =
                filter + (size_t)oc * (size_t)g->filter_size + fy0 * g->filter_row + fx0 * g->filter_c;
            kiln_conv_window_s8(g, in_first, filter_first, fy1 - fy0, fx1 - fx0, e->x_offset,
                                channels, acc);
          }
          kiln_conv_store(p, e, oc, channels, acc, out_i8, out_f32);
        }
      }
      if (out_i8 != NULL) out_i8 += p->out_c;
      if (out_f32 != NULL) out_f32 += p->out_c;
    }
  }
}

#if defined(__ARM_FEATURE_DSP)
/*
 * int8 CONV_2D on a DSP core (groups == 1, windows of at most KILN_CONV_DSP_WINDOW_MAX values):
 * output pixels are taken two at a time. Each pixel's window is read in filter order (fy, fx,
 * ci): straight from the image when it is one contiguous run inside it (a 1x1 filter, or a
 * filter as wide as the image row), else gathered into a stack buffer with the input zero point
 * on the padding taps (which then adds exactly nothing, as skipping them does). Once per pixel,
 * each four values are split by SXTAB16 into two words of int16 lanes, input + offset, holding
 * k, k + 2 and k + 1, k + 3: the lane order SXTB16 gives a weight word. The two pixels' words are
 * interleaved, so the inner loop (kiln_conv_dot2x2) reads one weight word per output channel and
 * four staged words for two output channels x two pixels: 16 multiply-adds in 8 SMLADs. The last
 * window % 4 values go through a plain loop. Stack: the staged pair (window + 8 words) and one
 * gathered window; larger windows take the portable path.
 */
#ifndef KILN_CONV_DSP_WINDOW_MAX
#define KILN_CONV_DSP_WINDOW_MAX 576
#endif
#if KILN_CONV_DSP_WINDOW_MAX < 576 && !KILN_CONV_S8_PORTABLE_USED
/* the code generator leaves the portable path out for windows up to 576 values */
#error "a KILN_CONV_DSP_WINDOW_MAX below 576 needs -DKILN_CONV_S8_PORTABLE_USED=1"
#endif

/* The window of output pixel (oy, ox) as n int8 values: a pointer into the image or into col. */
static const int8_t *kiln_conv_window_dsp(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                          const int8_t *in_image, int32_t oy, int32_t ox,
                                          int8_t *col) {
  const int32_t in_y0 = oy * p->stride_h - p->pad_top;
  const int32_t in_x0 = ox * p->stride_w - p->pad_left;
  const int8_t pad = (int8_t)(-p->input_offset); /* the input zero point */
  int32_t fy0;
  int32_t fy1;
  int32_t fx0;
  int32_t fx1;
  int32_t fy;
  kiln_tap_range(in_y0, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
  kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
  if (g->contiguous && p->filter_h == 1 && fy0 == 0 && fy1 == 1 && fx0 == 0 && fx1 == p->filter_w) {
    return in_image + (size_t)in_y0 * (size_t)g->row_stride + (size_t)in_x0 * (size_t)p->in_c;
  }
  for (fy = 0; fy < p->filter_h; ++fy) {
    int8_t *row = col + fy * g->filter_row;
    int32_t k;
    if (fy < fy0 || fy >= fy1 || fx1 <= fx0) {
      for (k = 0; k < g->filter_row; ++k) row[k] = pad;
    } else {
      const int8_t *src = in_image + (size_t)(in_y0 + fy * p->dilation_h) * (size_t)g->row_stride +
                          (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)p->in_c;
      const int32_t begin = fx0 * g->filter_c;
      const int32_t end = fx1 * g->filter_c;
      /* plain loops: the runs are short (a few taps x channels), below what a library call pays off */
      for (k = 0; k < begin; ++k) row[k] = pad;
      if (g->contiguous) {
        for (k = begin; k < end; ++k) row[k] = src[k - begin];
      } else {
        int32_t fx;
        for (fx = fx0; fx < fx1; ++fx) {
          const int8_t *tap = src + (size_t)(fx - fx0) * (size_t)g->in_col_step;
          int8_t *dst = row + fx * g->filter_c;
          int32_t ci;
          for (ci = 0; ci < g->filter_c; ++ci) dst[ci] = tap[ci];
        }
      }
      for (k = end; k < g->filter_row; ++k) row[k] = pad;
    }
  }
  return col;
}

/*
 * Stages window x (n values) as pixel `which` (0 or 1) of the pair: words stage[4 j + 2 which]
 * and [4 j + 2 which + 1] hold lanes (x[4j] + o, x[4j+2] + o) and (x[4j+1] + o, x[4j+3] + o); the
 * n % 4 last values go to tail[4 which ..] as int32.
 */
static void kiln_conv_stage_dsp(const int8_t *x, int32_t n, int32_t x_offset, int32_t which,
                                int32_t *stage, int32_t *tail) {
  const int32_t off2 = kiln_offset_x2(x_offset);
  int32_t *dst = stage + 2 * which;
  int32_t i;
  for (i = 0; i + 4 <= n; i += 4) {
    const int32_t xv = kiln_load_s8x4(x + i);
    dst[0] = __sxtab16(off2, xv);
    dst[1] = __sxtab16(off2, kiln_ror8(xv));
    dst += 4;
  }
  for (; i < n; ++i) tail[4 * which + (i & 3)] = (int32_t)x[i] + x_offset;
}

/*
 * Adds to acc[0..3] the sums of filter rows w0, w1 against the staged pixels 0 and 1 (acc[0] +=
 * w0 x p0, acc[1] += w0 x p1, acc[2] += w1 x p0, acc[3] += w1 x p1) over n values.
 */
static inline void kiln_conv_dot2x2(const int8_t *w0, const int8_t *w1, const int32_t *x,
                                    const int32_t *tail, int32_t n, int32_t *acc) {
  const int32_t *end = x + (n & ~3);
  int32_t a00 = acc[0];
  int32_t a01 = acc[1];
  int32_t a10 = acc[2];
  int32_t a11 = acc[3];
  int32_t i;
  while (x != end) {
    const int32_t p0a = x[0];
    const int32_t p0b = x[1];
    const int32_t p1a = x[2];
    const int32_t p1b = x[3];
    int32_t wv = kiln_load_s8x4(w0);
    int32_t wa = __sxtb16(wv);
    int32_t wb = __sxtb16(kiln_ror8(wv));
    a00 = __smlad(wa, p0a, a00);
    a00 = __smlad(wb, p0b, a00);
    a01 = __smlad(wa, p1a, a01);
    a01 = __smlad(wb, p1b, a01);
    wv = kiln_load_s8x4(w1);
    wa = __sxtb16(wv);
    wb = __sxtb16(kiln_ror8(wv));
    a10 = __smlad(wa, p0a, a10);
    a10 = __smlad(wb, p0b, a10);
    a11 = __smlad(wa, p1a, a11);
    a11 = __smlad(wb, p1b, a11);
    x += 4;
    w0 += 4;
    w1 += 4;
  }
  for (i = 0; i < (n & 3); ++i) {
    a00 += (int32_t)w0[i] * tail[i];
    a01 += (int32_t)w0[i] * tail[4 + i];
    a10 += (int32_t)w1[i] * tail[i];
    a11 += (int32_t)w1[i] * tail[4 + i];
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
}

/* Requantizes output channel c's sum v (bias included). */
static inline int8_t kiln_conv_out_s8(const kiln_conv_params *p, int32_t c, int32_t v) {
  if (kiln_conv_requant32(p)) {
    const kiln_requant32 r = kiln_conv_requant32_of(p, c);
    return kiln_clamp_s8_32(kiln_requant32_apply(v, &r) + p->output_offset, p->act_min, p->act_max);
  } else {
    const kiln_rescale r = kiln_conv_rescale(p, c);
    return kiln_clamp_s8(kiln_rescale_apply(v, &r) + p->output_offset, p->act_min, p->act_max);
  }
}

/*
 * Every output channel of the staged pixel pair (count 1 or 2 of them real), two channels at a
 * time; `fast` (a constant at both call sites, so each gets its own copy) selects the 32-bit MBQM,
 * whose per-channel constants are prepared once for both pixels.
 */
static inline void kiln_conv_channels_dsp(const kiln_conv_params *p, const int8_t *filter,
                                          const int32_t *bias, const int32_t *stage,
                                          const int32_t *tail, int32_t count, int fast,
                                          int8_t *out) {
  const int32_t n = p->filter_h * p->filter_w * p->in_c;
  const int32_t out_c = p->out_c;
  const int32_t zo = p->output_offset;
  const int32_t lo = p->act_min;
  const int32_t hi = p->act_max;
  int32_t c;
  for (c = 0; c < out_c; c += 2) {
    const int32_t c1 = c + 1 < out_c ? c + 1 : c; /* an odd last channel runs twice */
    const int8_t *w0 = filter + (size_t)c * (size_t)n;
    const int8_t *w1 = filter + (size_t)c1 * (size_t)n;
    const int32_t b0 = bias != NULL ? bias[c] : 0;
    const int32_t b1 = bias != NULL ? bias[c1] : 0;
    int32_t acc[4];
    acc[0] = b0; /* the sums start at the bias */
    acc[1] = b0;
    acc[2] = b1;
    acc[3] = b1;
    kiln_conv_dot2x2(w0, w1, stage, tail, n, acc);
    if (fast) {
      const kiln_requant32 r0 = kiln_conv_requant32_of(p, c);
      const kiln_requant32 r1 = kiln_conv_requant32_of(p, c1);
      const int8_t y00 = kiln_clamp_s8_32(kiln_requant32_apply(acc[0], &r0) + zo, lo, hi);
      const int8_t y01 = kiln_clamp_s8_32(kiln_requant32_apply(acc[1], &r0) + zo, lo, hi);
      const int8_t y10 = kiln_clamp_s8_32(kiln_requant32_apply(acc[2], &r1) + zo, lo, hi);
      const int8_t y11 = kiln_clamp_s8_32(kiln_requant32_apply(acc[3], &r1) + zo, lo, hi);
      out[c] = y00;
      out[c1] = y10;
      if (count == 2) {
        out[out_c + c] = y01;
        out[out_c + c1] = y11;
      }
    } else {
      out[c] = kiln_conv_out_s8(p, c, acc[0]);
      out[c1] = kiln_conv_out_s8(p, c1, acc[2]);
      if (count == 2) {
        out[out_c + c] = kiln_conv_out_s8(p, c, acc[1]);
        out[out_c + c1] = kiln_conv_out_s8(p, c1, acc[3]);
      }
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
/* as kiln_fc_dot4_dsp: without GCC's first scheduling pass the dot loop keeps its end pointer in a
 * register (23 instructions for 16 multiply-adds instead of 24 with a reload) */
__attribute__((optimize("no-schedule-insns")))
#endif
static void kiln_conv_image_dsp_s8(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                   const int8_t *in_image, const int8_t *filter,
                                   const int32_t *bias, int8_t *out) {
  const int32_t n = g->filter_size;
  const int32_t out_c = p->out_c;
  const int32_t pixels = p->out_h * p->out_w;
  int32_t stage[KILN_CONV_DSP_WINDOW_MAX + 8];
  int8_t col[KILN_CONV_DSP_WINDOW_MAX];
  int32_t first;
  int32_t oy = 0;
  int32_t ox = 0;
  for (first = 0; first < pixels; first += 2) {
    const int32_t count = pixels - first < 2 ? 1 : 2;
    int32_t *tail = stage + (n & ~3);
    int32_t q;
    for (q = 0; q < 2; ++q) {
      /* a lone last pixel is staged twice; the second copy's sums are dropped */
      kiln_conv_stage_dsp(kiln_conv_window_dsp(p, g, in_image, oy, ox, col), n, p->input_offset, q,
                          stage, tail);
      if (q + 1 < count) {
        if (++ox == p->out_w) {
          ox = 0;
          ++oy;
        }
      }
    }
    if (++ox == p->out_w) {
      ox = 0;
      ++oy;
    }
    if (kiln_conv_requant32(p)) {
      kiln_conv_channels_dsp(p, filter, bias, stage, tail, count, 1, out);
    } else {
      kiln_conv_channels_dsp(p, filter, bias, stage, tail, count, 0, out);
    }
    out += (size_t)count * (size_t)out_c;
  }
}
#endif /* __ARM_FEATURE_DSP */

/*
 * CONV_2D over one int8 batch image, staged if `stage` is not NULL; returns e with its output
 * pointer past the image's outputs.
 */
static kiln_conv_epilogue kiln_conv_image_s8(const kiln_conv_params *p,
                                             const kiln_conv_geometry *g, const int8_t *in_image,
                                             const int8_t *filter, kiln_conv_epilogue e,
                                             int16_t *stage) {
  const size_t outputs = (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
  if (stage != NULL) {
    kiln_conv_image_staged_s8(p, g, in_image, filter, &e, stage);
  } else {
    kiln_conv_image_rows_s8(p, g, in_image, filter, &e);
  }
  if (e.out_i8 != NULL) e.out_i8 += outputs;
  if (e.out_f32 != NULL) e.out_f32 += outputs;
  return e;
}

void kiln_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output, void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  int16_t *stage = (int16_t *)scratch; /* given only for a staged conv */
  kiln_conv_epilogue e;
  int32_t b;
  e.mode = KILN_CONV_INT8;
  e.x_offset = p->input_offset;
  e.bias_i32 = bias;
  e.out_i8 = output;
  e.bias_f32 = NULL;
  e.out_f32 = NULL;
  e.scale = 0.0f;
#if defined(__ARM_FEATURE_DSP)
  if (p->groups == 1 && g.filter_size <= KILN_CONV_DSP_WINDOW_MAX) {
    const size_t outputs = (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
    for (b = 0; b < p->batches; ++b) {
      kiln_conv_image_dsp_s8(p, &g, input + (size_t)b * (size_t)g.image_size, filter, bias,
                             output + (size_t)b * outputs);
    }
    return;
  }
#endif
#if !defined(__ARM_FEATURE_DSP) || KILN_CONV_S8_PORTABLE_USED
  for (b = 0; b < p->batches; ++b) {
    e = kiln_conv_image_s8(p, &g, input + (size_t)b * (size_t)g.image_size, filter, e, stage);
  }
#else
  (void)e;
  (void)stage;
#endif
}

/* The hybrid kernels' scratch: the quantized image, then (if staged) the staged windows. */
static int16_t *kiln_conv_hybrid_stage(const kiln_conv_params *p, const kiln_conv_geometry *g,
                                       void *scratch) {
  const size_t image = ((size_t)g->image_size + 15) & ~(size_t)15;
  return p->staged ? (int16_t *)(void *)((uint8_t *)scratch + image) : NULL;
}

void kiln_conv_hybrid_f32(const kiln_conv_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  int8_t *in_image = (int8_t *)scratch;
  int16_t *stage = kiln_conv_hybrid_stage(p, &g, scratch);
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
        kiln_quantize_symmetric(input + (size_t)b * (size_t)g.image_size, g.image_size, in_image);
    e.scale = input_scale * p->out.f32.filter.scale;
    e = kiln_conv_image_s8(p, &g, in_image, filter, e, stage);
  }
}

void kiln_conv_hybrid_per_channel_f32(const kiln_conv_params *p, const float *input,
                                      const int8_t *filter, const float *bias, float *output,
                                      void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  int8_t *in_image = (int8_t *)scratch;
  int16_t *stage = kiln_conv_hybrid_stage(p, &g, scratch);
  kiln_conv_epilogue e;
  int32_t b;
  e.mode = KILN_CONV_HYBRID_PER_CHANNEL;
  e.bias_i32 = NULL;
  e.out_i8 = NULL;
  e.bias_f32 = bias;
  e.out_f32 = output;
  for (b = 0; b < p->batches; ++b) {
    int32_t zero_point;
    e.scale = kiln_quantize_asymmetric(input + (size_t)b * (size_t)g.image_size, g.image_size, in_image,
                                       &zero_point);
    e.x_offset = -zero_point;
    e = kiln_conv_image_s8(p, &g, in_image, filter, e, stage);
  }
}

void kiln_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                   const float *bias, float *output) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int gather = g.gather && g.filter_size <= KILN_CONV_GATHER_MAX_F32;
  const float act_min = p->out.f32.act_min_f;
  const float act_max = p->out.f32.act_max_f;
  float col[KILN_CONV_GATHER_MAX_F32];
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * (size_t)g.image_size;
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
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * (size_t)g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)p->in_c + group * g.filter_c;
          }
          for (oc = group * g.out_c_per_group; oc < oc_end; oc += 4) {
            const int32_t channels = oc_end - oc < 4 ? oc_end - oc : 4;
            float total[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            int32_t j;
            if (gathered) {
              const float *f = filter + (size_t)oc * (size_t)g.filter_size;
              if (channels == 4) {
                kiln_dot4_f32(f, (size_t)g.filter_size, col, g.filter_size, total);
              } else {
                for (j = 0; j < channels; ++j) {
                  total[j] = kiln_dot_f32(f + (size_t)j * (size_t)g.filter_size, col, g.filter_size, 0.0f);
                }
              }
            } else if (in_first != NULL) {
              const float *filter_first =
                  filter + (size_t)oc * (size_t)g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
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
 * the filter, so up to KILN_DW_CHUNK channels are accumulated side by side over the window, tap by
 * tap (each channel still sums its taps in the order fy, fx; many channels per tap keep the sums'
 * updates independent), in blocks of KILN_DW_BLOCK (KILN_DW_BLOCK_F32 for float32) that gcc -O2
 * vectorizes, then one at a time; other multipliers take one channel at a time.
 */
#define KILN_DW_BLOCK 16
#define KILN_DW_BLOCK_F32 8
#define KILN_DW_CHUNK 64

/* Requantizes the int32 sum (bias included) of output channel c. */
static inline int8_t kiln_depthwise_out_s8(const kiln_conv_params *p, int32_t c, int32_t acc) {
  if (kiln_conv_requant32(p)) {
    const kiln_requant32 r32 = kiln_conv_requant32_of(p, c);
    return kiln_clamp_s8_32(kiln_requant32_apply(acc, &r32) + p->output_offset, p->act_min,
                            p->act_max);
  } else {
    const kiln_rescale r = kiln_conv_rescale(p, c);
    const int64_t y = kiln_rescale_apply(acc, &r) + p->output_offset;
    return kiln_clamp_s8(y, p->act_min, p->act_max);
  }
}

#if defined(__ARM_FEATURE_DSP)
/*
 * Depth multiplier 1 on a DSP core: channels [0, channels) (a multiple of 4) of every output pixel
 * of one batch image, four channels at a time, the pixels inside (so each channel's rescale is
 * prepared once per call, not per output). One load brings four input codes and one four
 * weights; SXTAB16 / SXTB16 split each into the int16 lanes of channels (0, 2) and, rotated,
 * (1, 3), the input with the offset added; SMLABB / SMLATT multiply-add the matching lanes into
 * each channel's sum, which starts at the bias. Taps outside the image are skipped as below.
 */
/*
 * The rescales and biases of channels [oc, oc + 4), written to memory by a call the compiler does
 * not inline, so the pixel loop loads them instead of recomputing them from the shifts per output.
 */
__attribute__((noinline))
static void kiln_depthwise_prepare_dsp(const kiln_conv_params *p, const int32_t *bias, int32_t oc,
                                       kiln_requant32 *r, int32_t *b) {
  int32_t j;
  for (j = 0; j < 4; ++j) {
    r[j] = kiln_conv_requant32_of(p, oc + j);
    b[j] = bias != NULL ? bias[oc + j] : 0;
  }
}

/* One tap of four channels: x (four input codes) against w (their weights split into lanes). */
static inline void kiln_dw_tap_dsp(const int8_t *x, const int32_t *w, int32_t off2, int32_t *a0,
                                   int32_t *a1, int32_t *a2, int32_t *a3) {
  const int32_t xv = kiln_load_s8x4(x);
  const int32_t x02 = __sxtab16(off2, xv);
  const int32_t x13 = __sxtab16(off2, kiln_ror8(xv));
  *a0 = __smlabb(x02, w[0], *a0);
  *a2 = __smlatt(x02, w[0], *a2);
  *a1 = __smlabb(x13, w[1], *a1);
  *a3 = __smlatt(x13, w[1], *a3);
}

/* What a run of 3x3 depthwise pixels needs besides the image: kiln_dw3x3_run_dsp's arguments. */
typedef struct {
  int32_t col_step;  /* bytes between the taps of a window row (dilation_w * in_c) */
  int32_t row_step;  /* bytes between window rows (dilation_h * in_w * in_c) */
  int32_t x_step;    /* bytes between the windows of neighbouring output pixels (stride_w * in_c) */
  int32_t out_step;  /* out_c */
  int32_t off2;      /* the input offset in both lanes */
  int32_t zo;        /* output zero point */
  int32_t act_min, act_max;
} kiln_dw3x3_run;

/*
 * `count` neighbouring output pixels of one row, four channels, each 3x3 window wholly inside the
 * image (x: the first window's top-left tap of channel oc): the nine taps unrolled with the
 * weights at fixed places in w (kiln_depthwise_dsp_s8's wbuf), the sums starting at the bias b,
 * the 32-bit MBQM r. A function of its own so that its loop has the registers to itself.
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-schedule-insns"))) /* else the nine loads are hoisted and spilled */
#endif
__attribute__((noinline))
static void kiln_dw3x3_run_dsp(const kiln_dw3x3_run *k, const int8_t *x, const int32_t *w,
                               const int32_t *b, const kiln_requant32 *r, int8_t *out,
                               int32_t count) {
  const int32_t col = k->col_step;
  const int32_t row = k->row_step;
  const int32_t off2 = k->off2;
  const int32_t zo = k->zo;
  const int32_t lo = k->act_min;
  const int32_t hi = k->act_max;
  do {
    const int8_t *x1 = x + row;
    const int8_t *x2 = x1 + row;
    int32_t a0 = b[0];
    int32_t a1 = b[1];
    int32_t a2 = b[2];
    int32_t a3 = b[3];
    kiln_dw_tap_dsp(x, w, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x + col, w + 2, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x + 2 * col, w + 4, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x1, w + 6, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x1 + col, w + 8, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x1 + 2 * col, w + 10, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x2, w + 12, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x2 + col, w + 14, off2, &a0, &a1, &a2, &a3);
    kiln_dw_tap_dsp(x2 + 2 * col, w + 16, off2, &a0, &a1, &a2, &a3);
    out[0] = kiln_clamp_s8_32(kiln_requant32_apply(a0, &r[0]) + zo, lo, hi);
    out[1] = kiln_clamp_s8_32(kiln_requant32_apply(a1, &r[1]) + zo, lo, hi);
    out[2] = kiln_clamp_s8_32(kiln_requant32_apply(a2, &r[2]) + zo, lo, hi);
    out[3] = kiln_clamp_s8_32(kiln_requant32_apply(a3, &r[3]) + zo, lo, hi);
    x += k->x_step;
    out += k->out_step;
  } while (--count != 0);
}

/* Filters of at most this many taps have their weights split into lanes once per four channels. */
#define KILN_DW_DSP_TAPS_MAX 25

__attribute__((noinline)) /* its own registers: the tap loop needs all of them */
static void kiln_depthwise_dsp_s8(const kiln_conv_params *p, const int8_t *in_image,
                                  const int8_t *filter, const int32_t *bias, int8_t *out_image,
                                  int32_t channels) {
  const int32_t out_c = p->out_c;
  const int32_t row_stride = p->in_w * p->in_c;
  const int32_t in_row_step = p->dilation_h * row_stride;
  const int32_t in_col_step = p->dilation_w * p->in_c;
  const int32_t filter_row = p->filter_w * out_c;
  const int32_t off2 = kiln_offset_x2(p->input_offset);
  const int fast = kiln_conv_requant32(p);
  /* the fields the pixel loops read, in locals: the int8 stores below may alias *p for the
   * compiler, which would otherwise load them again after every output */
  const int32_t out_h = p->out_h;
  const int32_t out_w = p->out_w;
  const int32_t in_h = p->in_h;
  const int32_t in_w = p->in_w;
  const int32_t in_c = p->in_c;
  const int32_t filter_h = p->filter_h;
  const int32_t filter_w = p->filter_w;
  const int32_t stride_h = p->stride_h;
  const int32_t stride_w = p->stride_w;
  const int32_t dilation_h = p->dilation_h;
  const int32_t dilation_w = p->dilation_w;
  const int32_t pad_top = p->pad_top;
  const int32_t pad_left = p->pad_left;
  const int32_t zo = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
  int32_t oc;
  const int32_t taps = filter_h * filter_w;
  const int unpacked = taps <= KILN_DW_DSP_TAPS_MAX;
  /* 3x3 filters with the 32-bit MBQM run their inside pixels through kiln_dw3x3_run_dsp */
  const int runs = fast && filter_h == 3 && filter_w == 3;
  kiln_dw3x3_run run;
  run.col_step = in_col_step;
  run.row_step = in_row_step;
  run.x_step = stride_w * in_c;
  run.out_step = out_c;
  run.off2 = off2;
  run.zo = zo;
  run.act_min = act_min;
  run.act_max = act_max;
  for (oc = 0; oc < channels; oc += 4) {
    kiln_requant32 r[4];
    int32_t b[4];
    int32_t wbuf[2 * KILN_DW_DSP_TAPS_MAX];
    int8_t *out = out_image + oc;
    int32_t oy;
    int32_t j;
    kiln_depthwise_prepare_dsp(p, bias, oc, r, b);
    if (unpacked) {
      /* the four channels' weights, split into lanes once for all the pixels */
      for (j = 0; j < taps; ++j) {
        const int32_t wv = kiln_load_s8x4(filter + (size_t)(j * out_c + oc));
        wbuf[2 * j] = __sxtb16(wv);
        wbuf[2 * j + 1] = __sxtb16(kiln_ror8(wv));
      }
    }
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t in_y0 = oy * stride_h - pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, dilation_h, filter_h, in_h, &fy0, &fy1);
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t in_x0 = ox * stride_w - pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t a0 = b[0];
        int32_t a1 = b[1];
        int32_t a2 = b[2];
        int32_t a3 = b[3];
        kiln_tap_range(in_x0, dilation_w, filter_w, in_w, &fx0, &fx1);
        if (runs && fy1 - fy0 == 3 && fx1 - fx0 == 3) {
          /* this pixel and the following ones up to the last whose window ends inside the row
           * (in_x0 >= 0 here, so the quotient is at least ox) */
          const int32_t last = (in_w - 1 - 2 * dilation_w + pad_left) / stride_w;
          const int32_t count = (last < out_w - 1 ? last : out_w - 1) - ox + 1;
          kiln_dw3x3_run_dsp(&run, in_image + (size_t)in_y0 * (size_t)row_stride +
                                       (size_t)in_x0 * (size_t)in_c + oc,
                             wbuf, b, r, out, count);
          out += (size_t)count * (size_t)out_c;
          ox += count - 1;
          continue;
        }
        if (fy1 > fy0 && fx1 > fx0) {
          const int8_t *xr = in_image + (size_t)(in_y0 + fy0 * dilation_h) * (size_t)row_stride +
                             (size_t)(in_x0 + fx0 * dilation_w) * (size_t)in_c + oc;
          const int8_t *wr = filter + (size_t)(fy0 * filter_row + fx0 * out_c + oc);
          const int32_t cols = fx1 - fx0;
          int32_t fy;
          if (unpacked && taps == 9 && fy1 - fy0 == 3 && cols == 3) {
            /* a 3x3 window wholly inside the image: the nine taps unrolled, weights at fixed
             * places in wbuf, no loop counters */
            const int8_t *x1 = xr + in_row_step;
            const int8_t *x2 = x1 + in_row_step;
            kiln_dw_tap_dsp(xr, wbuf, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(xr + in_col_step, wbuf + 2, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(xr + 2 * in_col_step, wbuf + 4, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x1, wbuf + 6, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x1 + in_col_step, wbuf + 8, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x1 + 2 * in_col_step, wbuf + 10, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x2, wbuf + 12, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x2 + in_col_step, wbuf + 14, off2, &a0, &a1, &a2, &a3);
            kiln_dw_tap_dsp(x2 + 2 * in_col_step, wbuf + 16, off2, &a0, &a1, &a2, &a3);
          } else if (unpacked) {
            const int32_t *wt = wbuf + 2 * (fy0 * filter_w + fx0);
            for (fy = fy0; fy < fy1; ++fy) {
              const int8_t *x = xr;
              const int32_t *w = wt;
              const int32_t *w_end = wt + 2 * cols;
              do {
                const int32_t xv = kiln_load_s8x4(x);
                const int32_t x02 = __sxtab16(off2, xv);
                const int32_t x13 = __sxtab16(off2, kiln_ror8(xv));
                a0 = __smlabb(x02, w[0], a0);
                a2 = __smlatt(x02, w[0], a2);
                a1 = __smlabb(x13, w[1], a1);
                a3 = __smlatt(x13, w[1], a3);
                x += in_col_step;
                w += 2;
              } while (w != w_end);
              xr += in_row_step;
              wt += 2 * filter_w;
            }
            fy = fy1; /* done */
          }
          for (fy = unpacked ? fy1 : fy0; fy < fy1; ++fy) {
            const int8_t *x = xr;
            const int8_t *w = wr;
            const int8_t *w_end = wr + cols * out_c;
            do {
              const int32_t xv = kiln_load_s8x4(x);
              const int32_t wv = kiln_load_s8x4(w);
              const int32_t x02 = __sxtab16(off2, xv);
              const int32_t x13 = __sxtab16(off2, kiln_ror8(xv));
              const int32_t w02 = __sxtb16(wv);
              const int32_t w13 = __sxtb16(kiln_ror8(wv));
              a0 = __smlabb(x02, w02, a0);
              a2 = __smlatt(x02, w02, a2);
              a1 = __smlabb(x13, w13, a1);
              a3 = __smlatt(x13, w13, a3);
              x += in_col_step;
              w += out_c;
            } while (w != w_end);
            xr += in_row_step;
            wr += filter_row;
          }
        }
        if (fast) {
          out[0] = kiln_clamp_s8_32(kiln_requant32_apply(a0, &r[0]) + zo, act_min, act_max);
          out[1] = kiln_clamp_s8_32(kiln_requant32_apply(a1, &r[1]) + zo, act_min, act_max);
          out[2] = kiln_clamp_s8_32(kiln_requant32_apply(a2, &r[2]) + zo, act_min, act_max);
          out[3] = kiln_clamp_s8_32(kiln_requant32_apply(a3, &r[3]) + zo, act_min, act_max);
        } else {
          out[0] = kiln_depthwise_out_s8(p, oc, a0);
          out[1] = kiln_depthwise_out_s8(p, oc + 1, a1);
          out[2] = kiln_depthwise_out_s8(p, oc + 2, a2);
          out[3] = kiln_depthwise_out_s8(p, oc + 3, a3);
        }
        out += out_c;
      }
    }
  }
}
#endif

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
  const int32_t side_by_side = depth_multiplier == 1 ? out_c : 0;
#if defined(__ARM_FEATURE_DSP)
  const int32_t dsp_channels = side_by_side & ~3; /* done by kiln_depthwise_dsp_s8 first */
#else
  const int32_t dsp_channels = 0;
#endif
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
    int32_t oy;
#if defined(__ARM_FEATURE_DSP)
    kiln_depthwise_dsp_s8(p, in_image, filter, bias, output, dsp_channels);
#if !KILN_DEPTHWISE_S8_PORTABLE_USED
    /* every channel was the DSP path's (KILN_DEPTHWISE_S8_PORTABLE_USED): the loops below are
     * unreachable and left out */
    output += (size_t)p->out_h * (size_t)p->out_w * (size_t)out_c;
    continue;
#endif
#endif
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
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * (size_t)row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        } else {
          fy1 = fy0; /* no tap in the image */
        }
        for (oc = dsp_channels; oc < side_by_side; oc += KILN_DW_CHUNK) {
          const int32_t count =
              side_by_side - oc < KILN_DW_CHUNK ? side_by_side - oc : KILN_DW_CHUNK;
          int32_t acc[KILN_DW_CHUNK];
          int32_t fy;
          int32_t i;
          int k;
          for (i = 0; i < count; ++i) acc[i] = 0;
          for (fy = fy0; fy < fy1; ++fy) {
            const int8_t *in_tap = in_first + (fy - fy0) * in_row_step + oc;
            const int8_t *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              for (i = 0; i + KILN_DW_BLOCK <= count; i += KILN_DW_BLOCK) {
                for (k = 0; k < KILN_DW_BLOCK; ++k) {
                  const int16_t x = (int16_t)(in_tap[i + k] + input_offset);
                  acc[i + k] += (int32_t)filter_tap[i + k] * x;
                }
              }
              for (; i < count; ++i) {
                acc[i] += (int32_t)filter_tap[i] * ((int32_t)in_tap[i] + input_offset);
              }
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          for (i = 0; i < count; ++i) {
            const int32_t c = oc + i;
            output[c] = kiln_depthwise_out_s8(p, c, acc[i] + (bias != NULL ? bias[c] : 0));
          }
        }
        for (oc = side_by_side; oc < out_c; ++oc) {
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
          output[oc] = kiln_depthwise_out_s8(p, oc, acc);
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
  const float act_min = p->out.f32.act_min_f;
  const float act_max = p->out.f32.act_max_f;
  const int32_t blocked = depth_multiplier == 1 ? out_c - out_c % KILN_DW_BLOCK_F32 : 0;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
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
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * (size_t)row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * (size_t)in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        } else {
          fy1 = fy0;
        }
        for (oc = 0; oc < blocked; oc += KILN_DW_CHUNK) {
          const int32_t count = blocked - oc < KILN_DW_CHUNK ? blocked - oc : KILN_DW_CHUNK;
          float total[KILN_DW_CHUNK];
          int32_t fy;
          int32_t i;
          int k;
          for (i = 0; i < count; ++i) total[i] = 0.0f;
          for (fy = fy0; fy < fy1; ++fy) {
            const float *in_tap = in_first + (fy - fy0) * in_row_step + oc;
            const float *filter_tap = filter_first + (fy - fy0) * filter_row + oc;
            int32_t fx = fx0;
            /* three taps of a row per pass over the sums (the same additions in the same order) */
            for (; fx + 3 <= fx1; fx += 3) {
              const float *x1 = in_tap + in_col_step;
              const float *x2 = x1 + in_col_step;
              const float *w1 = filter_tap + filter_col_step;
              const float *w2 = w1 + filter_col_step;
              for (i = 0; i < count; i += KILN_DW_BLOCK_F32) {
                for (k = 0; k < KILN_DW_BLOCK_F32; ++k) {
                  const float p0 = in_tap[i + k] * filter_tap[i + k];
                  const float p1 = x1[i + k] * w1[i + k];
                  const float p2 = x2[i + k] * w2[i + k];
                  float t = total[i + k];
                  t += p0;
                  t += p1;
                  t += p2;
                  total[i + k] = t;
                }
              }
              in_tap = x2 + in_col_step;
              filter_tap = w2 + filter_col_step;
            }
            for (; fx < fx1; ++fx) {
              for (i = 0; i < count; i += KILN_DW_BLOCK_F32) {
                for (k = 0; k < KILN_DW_BLOCK_F32; ++k) {
                  const float product = in_tap[i + k] * filter_tap[i + k];
                  total[i + k] += product;
                }
              }
              in_tap += in_col_step;
              filter_tap += filter_col_step;
            }
          }
          if (bias != NULL) {
            for (i = 0; i < count; i += KILN_DW_BLOCK_F32) {
              for (k = 0; k < KILN_DW_BLOCK_F32; ++k) total[i + k] += bias[oc + i + k];
            }
          }
          for (i = 0; i < count; i += KILN_DW_BLOCK_F32) {
            for (k = 0; k < KILN_DW_BLOCK_F32; ++k) {
              output[oc + i + k] = kiln_clamp_f32(total[i + k], act_min, act_max);
            }
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
