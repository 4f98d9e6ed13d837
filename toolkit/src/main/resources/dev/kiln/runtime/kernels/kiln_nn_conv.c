/*
 * CONV_2D (int8, float32, hybrid) and DEPTHWISE_CONV_2D (int8, float32).
 * tflite-numerics.md sections 2.1, 3.1, 3.2 and 9.
 *
 * Every kernel computes one output element at a time like TFLite's reference kernels, but first
 * clips the filter window to the image (kiln_tap_range) so the inner loops carry no bounds tests,
 * and walks input and filter with precomputed pointer steps.
 *
 * int32 accumulators: an int8 product is at most 128 * 255 in magnitude (input offset included),
 * so a sum of up to 2^16 taps x channels stays below 2^31. Kiln's compiler checks, before any code
 * is generated, that the accumulator shifted left by a positive requantization shift cannot
 * overflow either.
 */
#include <math.h>

#include "kiln_fixedpoint.h"
#include "kiln_nn.h"
#include "kiln_nn_util.h"

/*
 * Sum over a clipped window of (filter + 0) * (input + input_offset): rows x cols taps of depth
 * channels each. in/filter point at the first visited tap; the steps move to the next tap in the
 * row (col_step) and to the first tap of the next row (row_step).
 */
static int32_t kiln_window_dot_s8(const int8_t *in, const int8_t *filter, int32_t rows,
                                  int32_t cols, int32_t depth, int32_t in_row_step,
                                  int32_t in_col_step, int32_t filter_row_step,
                                  int32_t filter_col_step, int32_t input_offset) {
  int32_t acc = 0;
  int32_t r;
  for (r = 0; r < rows; ++r) {
    const int8_t *in_tap = in;
    const int8_t *filter_tap = filter;
    int32_t c;
    for (c = 0; c < cols; ++c) {
      int32_t ci;
      for (ci = 0; ci < depth; ++ci) {
        acc += (int32_t)filter_tap[ci] * ((int32_t)in_tap[ci] + input_offset);
      }
      in_tap += in_col_step;
      filter_tap += filter_col_step;
    }
    in += in_row_step;
    filter += filter_row_step;
  }
  return acc;
}

/* The same in float32, products and sums rounded separately in the order fy, fx, ci. */
static float kiln_window_dot_f32(const float *in, const float *filter, int32_t rows, int32_t cols,
                                 int32_t depth, int32_t in_row_step, int32_t in_col_step,
                                 int32_t filter_row_step, int32_t filter_col_step) {
  float total = 0.0f;
  int32_t r;
  for (r = 0; r < rows; ++r) {
    const float *in_tap = in;
    const float *filter_tap = filter;
    int32_t c;
    for (c = 0; c < cols; ++c) {
      int32_t ci;
      for (ci = 0; ci < depth; ++ci) {
        const float product = in_tap[ci] * filter_tap[ci];
        total += product;
      }
      in_tap += in_col_step;
      filter_tap += filter_col_step;
    }
    in += in_row_step;
    filter += filter_row_step;
  }
  return total;
}

/* Conv over one int8 batch image, giving the int32 accumulator (bias excluded) to each output. */
typedef struct {
  int32_t filter_c;        /* input channels per group */
  int32_t out_c_per_group;
  int32_t row_stride;      /* input elements per image row */
  int32_t filter_row;      /* filter elements per filter row */
  int32_t filter_size;     /* filter elements per output channel */
} kiln_conv_geometry;

static kiln_conv_geometry kiln_conv_geometry_of(const kiln_conv_params *p) {
  kiln_conv_geometry g;
  g.filter_c = p->in_c / p->groups;
  g.out_c_per_group = p->out_c / p->groups;
  g.row_stride = p->in_w * p->in_c;
  g.filter_row = p->filter_w * g.filter_c;
  g.filter_size = p->filter_h * g.filter_row;
  return g;
}

void kiln_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int32_t in_row_step = p->dilation_h * g.row_stride;
  const int32_t in_col_step = p->dilation_w * p->in_c;
  const int32_t filter_col_step = g.filter_c;
  const int32_t input_offset = p->input_offset;
  const int32_t output_offset = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_image = input + (size_t)b * p->in_h * g.row_stride;
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
          const int32_t oc_begin = group * g.out_c_per_group;
          const int32_t oc_end = oc_begin + g.out_c_per_group;
          const int8_t *in_first = NULL;
          int32_t oc;
          if (fy1 > fy0 && fx1 > fx0) {
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g.filter_c;
          }
          for (oc = oc_begin; oc < oc_end; ++oc) {
            int32_t acc = 0;
            if (in_first != NULL) {
              const int8_t *filter_first =
                  filter + (size_t)oc * g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
              acc = kiln_window_dot_s8(in_first, filter_first, fy1 - fy0, fx1 - fx0, g.filter_c,
                                       in_row_step, in_col_step, g.filter_row, filter_col_step,
                                       input_offset);
            }
            if (bias != NULL) acc += bias[oc];
            acc = kiln_mbqm(acc, p->out_multiplier[oc], p->out_shift[oc]) + output_offset;
            output[oc] = (int8_t)kiln_clamp_i32(acc, act_min, act_max);
          }
        }
        output += p->out_c;
      }
    }
  }
}

void kiln_conv_f32(const kiln_conv_params *p, const float *input, const float *filter,
                   const float *bias, float *output) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int32_t in_row_step = p->dilation_h * g.row_stride;
  const int32_t in_col_step = p->dilation_w * p->in_c;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * p->in_h * g.row_stride;
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
          const int32_t oc_begin = group * g.out_c_per_group;
          const int32_t oc_end = oc_begin + g.out_c_per_group;
          const float *in_first = NULL;
          int32_t oc;
          if (fy1 > fy0 && fx1 > fx0) {
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g.filter_c;
          }
          for (oc = oc_begin; oc < oc_end; ++oc) {
            float total = 0.0f;
            if (in_first != NULL) {
              const float *filter_first =
                  filter + (size_t)oc * g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
              total = kiln_window_dot_f32(in_first, filter_first, fy1 - fy0, fx1 - fx0,
                                          g.filter_c, in_row_step, in_col_step, g.filter_row,
                                          g.filter_c);
            }
            if (bias != NULL) total += bias[oc];
            output[oc] = kiln_clamp_f32(total, act_min, act_max);
          }
        }
        output += p->out_c;
      }
    }
  }
}

/*
 * Symmetric per-image quantization of the hybrid kernels (TFLite's SymmetricQuantizeFloats):
 * range = max(|min|, |max|); q = clamp(roundf(x * (127 / range)), -127, 127); returns the scale
 * range / 127 (1 for an all-zero image).
 */
static float kiln_quantize_symmetric(const float *values, int32_t size, int8_t *quantized) {
  float min_value = values[0];
  float max_value = values[0];
  float abs_min;
  float abs_max;
  float range;
  float inverse;
  int32_t i;
  for (i = 1; i < size; ++i) {
    const float v = values[i];
    if (v < min_value) min_value = v;
    if (max_value < v) max_value = v;
  }
  abs_min = min_value < 0.0f ? -min_value : min_value;
  abs_max = max_value < 0.0f ? -max_value : max_value;
  range = abs_min < abs_max ? abs_max : abs_min;
  if (range == 0.0f) {
    for (i = 0; i < size; ++i) quantized[i] = 0;
    return 1.0f;
  }
  inverse = 127.0f / range;
  for (i = 0; i < size; ++i) {
    const float scaled = values[i] * inverse;
    int32_t q = (int32_t)roundf(scaled);
    quantized[i] = (int8_t)kiln_clamp_i32(q, -127, 127);
  }
  return range / 127.0f;
}

void kiln_conv_hybrid_f32(const kiln_conv_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int32_t image_size = p->in_h * g.row_stride;
  const int32_t in_row_step = p->dilation_h * g.row_stride;
  const int32_t in_col_step = p->dilation_w * p->in_c;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  int8_t *in_image = (int8_t *)scratch;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float input_scale =
        kiln_quantize_symmetric(input + (size_t)b * image_size, image_size, in_image);
    const float scale = input_scale * p->filter_scale;
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
          const int32_t oc_begin = group * g.out_c_per_group;
          const int32_t oc_end = oc_begin + g.out_c_per_group;
          const int8_t *in_first = NULL;
          int32_t oc;
          if (fy1 > fy0 && fx1 > fx0) {
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g.filter_c;
          }
          for (oc = oc_begin; oc < oc_end; ++oc) {
            int32_t acc = 0;
            float value;
            if (in_first != NULL) {
              const int8_t *filter_first =
                  filter + (size_t)oc * g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
              acc = kiln_window_dot_s8(in_first, filter_first, fy1 - fy0, fx1 - fx0, g.filter_c,
                                       in_row_step, in_col_step, g.filter_row, g.filter_c, 0);
            }
            value = (float)acc * scale;
            if (bias != NULL) value += bias[oc];
            output[oc] = kiln_clamp_f32(value, act_min, act_max);
          }
        }
        output += p->out_c;
      }
    }
  }
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
static float kiln_quantize_asymmetric(const float *values, int32_t size, int8_t *quantized,
                                      int32_t *zero_point) {
  float min_value = values[0];
  float max_value = values[0];
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
  for (i = 1; i < size; ++i) {
    const float v = values[i];
    if (v < min_value) min_value = v;
    if (!(v < max_value)) max_value = v;
  }
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
    quantized[i] = (int8_t)kiln_clamp_i32((int32_t)roundf(shifted), -128, 127);
  }
  *zero_point = zp;
  return scale_f;
}

void kiln_conv_hybrid_per_channel_f32(const kiln_conv_params *p, const float *input,
                                      const int8_t *filter, const float *bias, float *output,
                                      void *scratch) {
  const kiln_conv_geometry g = kiln_conv_geometry_of(p);
  const int32_t image_size = p->in_h * g.row_stride;
  const int32_t in_row_step = p->dilation_h * g.row_stride;
  const int32_t in_col_step = p->dilation_w * p->in_c;
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
  int8_t *in_image = (int8_t *)scratch;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    int32_t zero_point;
    const float scale =
        kiln_quantize_asymmetric(input + (size_t)b * image_size, image_size, in_image, &zero_point);
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
          const int32_t oc_begin = group * g.out_c_per_group;
          const int32_t oc_end = oc_begin + g.out_c_per_group;
          const int8_t *in_first = NULL;
          int32_t oc;
          if (fy1 > fy0 && fx1 > fx0) {
            in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * g.row_stride +
                       (size_t)(in_x0 + fx0 * p->dilation_w) * p->in_c + group * g.filter_c;
          }
          for (oc = oc_begin; oc < oc_end; ++oc) {
            int32_t acc = 0;
            float value;
            if (in_first != NULL) {
              const int8_t *filter_first =
                  filter + (size_t)oc * g.filter_size + fy0 * g.filter_row + fx0 * g.filter_c;
              acc = kiln_window_dot_s8(in_first, filter_first, fy1 - fy0, fx1 - fx0, g.filter_c,
                                       in_row_step, in_col_step, g.filter_row, g.filter_c,
                                       -zero_point);
            }
            value = (float)acc * p->filter_scales[oc];
            value = value * scale;
            if (bias != NULL) value += bias[oc];
            output[oc] = kiln_clamp_f32(value, act_min, act_max);
          }
        }
        output += p->out_c;
      }
    }
  }
}

void kiln_depthwise_conv_s8(const kiln_conv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output) {
  const int32_t in_c = p->in_c;
  const int32_t out_c = p->out_c;
  const int32_t depth_multiplier = p->depth_multiplier;
  const int32_t row_stride = p->in_w * in_c;
  const int32_t in_row_step = p->dilation_h * row_stride;
  const int32_t in_col_step = p->dilation_w * in_c;
  const int32_t filter_row = p->filter_w * out_c;
  const int32_t input_offset = p->input_offset;
  const int32_t output_offset = p->output_offset;
  const int32_t act_min = p->act_min;
  const int32_t act_max = p->act_max;
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
        int32_t ic;
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        }
        for (ic = 0; ic < in_c; ++ic) {
          int32_t m;
          for (m = 0; m < depth_multiplier; ++m) {
            const int32_t oc = ic * depth_multiplier + m;
            int32_t acc = 0;
            if (in_first != NULL) {
              acc = kiln_window_dot_s8(in_first + ic, filter_first + oc, fy1 - fy0, fx1 - fx0, 1,
                                       in_row_step, in_col_step, filter_row, out_c, input_offset);
            }
            if (bias != NULL) acc += bias[oc];
            acc = kiln_mbqm(acc, p->out_multiplier[oc], p->out_shift[oc]) + output_offset;
            output[oc] = (int8_t)kiln_clamp_i32(acc, act_min, act_max);
          }
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
  const float act_min = p->act_min_f;
  const float act_max = p->act_max_f;
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
        int32_t ic;
        kiln_tap_range(in_x0, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        if (fy1 > fy0 && fx1 > fx0) {
          in_first = in_image + (size_t)(in_y0 + fy0 * p->dilation_h) * row_stride +
                     (size_t)(in_x0 + fx0 * p->dilation_w) * in_c;
          filter_first = filter + fy0 * filter_row + fx0 * out_c;
        }
        for (ic = 0; ic < in_c; ++ic) {
          int32_t m;
          for (m = 0; m < depth_multiplier; ++m) {
            const int32_t oc = ic * depth_multiplier + m;
            float total = 0.0f;
            if (in_first != NULL) {
              total = kiln_window_dot_f32(in_first + ic, filter_first + oc, fy1 - fy0, fx1 - fx0,
                                          1, in_row_step, in_col_step, filter_row, out_c);
            }
            if (bias != NULL) total += bias[oc];
            output[oc] = kiln_clamp_f32(total, act_min, act_max);
          }
        }
        output += out_c;
      }
    }
  }
}
