/*
 * MAX_POOL_2D and AVERAGE_POOL_2D. tflite-numerics.md section 4: window taps outside the image
 * are skipped (and not counted by the average); int8 works on raw codes (input and output share
 * scale and zero point).
 */
#include "kiln_fixedpoint.h"
#include "kiln_nn.h"
#include "kiln_nn_util.h"

void kiln_max_pool_s8(const kiln_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t channels = p->channels;
  const int32_t row_stride = p->in_w * channels;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, 1, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t c;
        int32_t fy;
        kiln_tap_range(in_x0, 1, p->filter_w, p->in_w, &fx0, &fx1);
        if (fx1 == fx0) fy1 = fy0; /* no tap in the image: visit nothing */
        /* the output pixel is the running maximum, channels innermost */
        for (c = 0; c < channels; ++c) output[c] = -128;
        for (fy = fy0; fy < fy1; ++fy) {
          const int8_t *in_tap = in_image + (size_t)(in_y0 + fy) * (size_t)row_stride +
                                 (size_t)(in_x0 + fx0) * (size_t)channels;
          int32_t fx;
          for (fx = fx0; fx < fx1; ++fx) {
            for (c = 0; c < channels; ++c) {
              if (in_tap[c] > output[c]) output[c] = in_tap[c];
            }
            in_tap += channels;
          }
        }
        for (c = 0; c < channels; ++c) {
          output[c] = (int8_t)kiln_clamp_i32(output[c], p->act_min, p->act_max);
        }
        output += channels;
      }
    }
  }
}

void kiln_max_pool_f32(const kiln_pool_params *p, const float *input, float *output) {
  const int32_t channels = p->channels;
  const int32_t row_stride = p->in_w * channels;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, 1, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t c;
        int32_t fy;
        kiln_tap_range(in_x0, 1, p->filter_w, p->in_w, &fx0, &fx1);
        if (fx1 == fx0) fy1 = fy0; /* no tap in the image: visit nothing */
        for (c = 0; c < channels; ++c) output[c] = -FLT_MAX;
        for (fy = fy0; fy < fy1; ++fy) {
          const float *in_tap = in_image + (size_t)(in_y0 + fy) * (size_t)row_stride +
                                (size_t)(in_x0 + fx0) * (size_t)channels;
          int32_t fx;
          for (fx = fx0; fx < fx1; ++fx) {
            for (c = 0; c < channels; ++c) {
              /* std::max(max, x): keeps max unless max < x */
              if (output[c] < in_tap[c]) output[c] = in_tap[c];
            }
            in_tap += channels;
          }
        }
        for (c = 0; c < channels; ++c) {
          output[c] = kiln_clamp_f32(output[c], p->act_min_f, p->act_max_f);
        }
        output += channels;
      }
    }
  }
}

void kiln_avg_pool_s8(const kiln_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t channels = p->channels;
  const int32_t row_stride = p->in_w * channels;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, 1, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t count;
        int32_t c;
        kiln_tap_range(in_x0, 1, p->filter_w, p->in_w, &fx0, &fx1);
        if (fx1 == fx0) fy1 = fy0; /* no tap in the image: visit nothing */
        count = (fy1 - fy0) * (fx1 - fx0);
        for (c = 0; c < channels; ++c) {
          const int8_t *in_row = in_image + c;
          int32_t sum = 0;
          int32_t average;
          int32_t fy;
          if (count > 0) {
            in_row += (size_t)(in_y0 + fy0) * (size_t)row_stride + (size_t)(in_x0 + fx0) * (size_t)channels;
          }
          for (fy = fy0; fy < fy1; ++fy) {
            const int8_t *in_tap = in_row;
            int32_t fx;
            for (fx = fx0; fx < fx1; ++fx) {
              sum += in_tap[0];
              in_tap += channels;
            }
            in_row += row_stride;
          }
          if (count == 0) {
            average = 0; /* a window entirely in the padding (TFLite would divide by zero) */
          } else {
            /* round half away from zero on the raw codes; C division truncates */
            average = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          }
          output[c] = (int8_t)kiln_clamp_i32(average, p->act_min, p->act_max);
        }
        output += channels;
      }
    }
  }
}

void kiln_avg_pool_f32(const kiln_pool_params *p, const float *input, float *output) {
  const int32_t channels = p->channels;
  const int32_t row_stride = p->in_w * channels;
  int32_t b;
  for (b = 0; b < p->batches; ++b) {
    const float *in_image = input + (size_t)b * (size_t)p->in_h * (size_t)row_stride;
    int32_t oy;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t in_y0 = oy * p->stride_h - p->pad_top;
      int32_t fy0;
      int32_t fy1;
      int32_t ox;
      kiln_tap_range(in_y0, 1, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t in_x0 = ox * p->stride_w - p->pad_left;
        int32_t fx0;
        int32_t fx1;
        int32_t c;
        int32_t fy;
        float count;
        kiln_tap_range(in_x0, 1, p->filter_w, p->in_w, &fx0, &fx1);
        if (fx1 == fx0) fy1 = fy0; /* no tap in the image: visit nothing */
        count = (float)((fy1 - fy0) * (fx1 - fx0));
        /* per channel the sum runs over fy (outer) then fx, as in TFLite */
        for (c = 0; c < channels; ++c) output[c] = 0.0f;
        for (fy = fy0; fy < fy1; ++fy) {
          const float *in_tap = in_image + (size_t)(in_y0 + fy) * (size_t)row_stride +
                                (size_t)(in_x0 + fx0) * (size_t)channels;
          int32_t fx;
          for (fx = fx0; fx < fx1; ++fx) {
            for (c = 0; c < channels; ++c) output[c] += in_tap[c];
            in_tap += channels;
          }
        }
        for (c = 0; c < channels; ++c) {
          output[c] = kiln_clamp_f32(output[c] / count, p->act_min_f, p->act_max_f);
        }
        output += channels;
      }
    }
  }
}
