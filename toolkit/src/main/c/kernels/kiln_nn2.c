/*
 * Heavy NN kernels of family nn2; see kiln_nn2.h for what each computes and where it comes from.
 */
#include "kiln_nn2.h"

#include <math.h>

#include "kiln_fixedpoint.h"
#include "kiln_nn.h"
#include "kiln_nn_util.h"

/* The input rows (or columns) a transposed-conv output coordinate gathers from: iy in [*first, *end)
 * with 0 <= o + pad - iy * stride < taps and 0 <= iy < size. */
static void kiln_tconv_range(int32_t o, int32_t pad, int32_t stride, int32_t taps, int32_t size,
                             int32_t *first, int32_t *end) {
  const int32_t top = o + pad;             /* >= 0: pad >= 0 */
  const int32_t low = top - taps + 1;      /* smallest iy * stride allowed */
  int32_t lo = low <= 0 ? 0 : (low + stride - 1) / stride;
  int32_t hi = top / stride + 1;
  if (hi > size) hi = size;
  if (lo > hi) lo = hi;
  *first = lo;
  *end = hi;
}

void kiln_transpose_conv_f32(const kiln_tconv_params *p, const float *input, const float *filter,
                             const float *bias, float *output) {
  int32_t b, oy, ox, oc, iy, ix, ic;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t y0, y1;
      kiln_tconv_range(oy, p->pad_top, p->stride_h, p->filter_h, p->in_h, &y0, &y1);
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t x0, x1;
        kiln_tconv_range(ox, p->pad_left, p->stride_w, p->filter_w, p->in_w, &x0, &x1);
        for (oc = 0; oc < p->out_c; ++oc) {
          float total = 0.0f;
          for (iy = y0; iy < y1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (ix = x0; ix < x1; ++ix) {
              const int32_t fx = ox + p->pad_left - ix * p->stride_w;
              const float *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
              const float *w = filter + ((oc * p->filter_h + fy) * p->filter_w + fx) * p->in_c;
              for (ic = 0; ic < p->in_c; ++ic) total += in[ic] * w[ic];
            }
          }
          if (bias != NULL) total += bias[oc];
          output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
              kiln_clamp_f32(total, p->act_min_f, p->act_max_f);
        }
      }
    }
  }
}

void kiln_transpose_conv_s8(const kiln_tconv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, oc, iy, ix, ic;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t y0, y1;
      kiln_tconv_range(oy, p->pad_top, p->stride_h, p->filter_h, p->in_h, &y0, &y1);
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t x0, x1;
        kiln_tconv_range(ox, p->pad_left, p->stride_w, p->filter_w, p->in_w, &x0, &x1);
        for (oc = 0; oc < p->out_c; ++oc) {
          /* int32 as in the reference; the compiler bounds |acc| below 2^31 */
          int32_t acc = 0;
          int32_t y;
          for (iy = y0; iy < y1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (ix = x0; ix < x1; ++ix) {
              const int32_t fx = ox + p->pad_left - ix * p->stride_w;
              const int8_t *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
              const int8_t *w = filter + ((oc * p->filter_h + fy) * p->filter_w + fx) * p->in_c;
              for (ic = 0; ic < p->in_c; ++ic) acc += ((int32_t)in[ic] + p->input_offset) * w[ic];
            }
          }
          if (bias != NULL) acc += bias[oc];
          y = kiln_mbqm(acc, p->out_multiplier[oc], p->out_shift[oc]) + p->output_offset;
          output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
              (int8_t)kiln_clamp_i32(y, p->act_min, p->act_max);
        }
      }
    }
  }
}

void kiln_transpose_conv_s16(const kiln_tconv_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oy, ox, oc, iy, ix, ic;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      int32_t y0, y1;
      kiln_tconv_range(oy, p->pad_top, p->stride_h, p->filter_h, p->in_h, &y0, &y1);
      for (ox = 0; ox < p->out_w; ++ox) {
        int32_t x0, x1;
        kiln_tconv_range(ox, p->pad_left, p->stride_w, p->filter_w, p->in_w, &x0, &x1);
        for (oc = 0; oc < p->out_c; ++oc) {
          int64_t acc = 0;
          int64_t y;
          for (iy = y0; iy < y1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (ix = x0; ix < x1; ++ix) {
              const int32_t fx = ox + p->pad_left - ix * p->stride_w;
              const int16_t *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
              const int8_t *w = filter + ((oc * p->filter_h + fy) * p->filter_w + fx) * p->in_c;
              for (ic = 0; ic < p->in_c; ++ic) acc += (int32_t)in[ic] * w[ic];
            }
          }
          if (bias != NULL) acc += bias[oc];
          y = kiln_mbqm64(acc, p->out_multiplier[oc], p->out_shift[oc]);
          y = y < p->act_min ? p->act_min : y;
          y = y > p->act_max ? p->act_max : y;
          output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] = (int16_t)y;
        }
      }
    }
  }
}

void kiln_batch_matmul_f32(const kiln_bmm_params *p, const float *x, const float *y, float *output) {
  int32_t b, i, j, k;
  for (b = 0; b < p->batches; ++b) {
    const float *xb = x + p->x_base[b];
    const float *yb = y + p->y_base[b];
    float *out = output + b * p->rows * p->cols;
    for (i = 0; i < p->rows; ++i) {
      for (j = 0; j < p->cols; ++j) {
        float total = 0.0f;
        for (k = 0; k < p->depth; ++k) {
          total += xb[i * p->x_row_stride + k * p->x_depth_stride] * yb[j * p->y_col_stride + k * p->y_depth_stride];
        }
        out[i * p->cols + j] = total;
      }
    }
  }
}

void kiln_batch_matmul_s8(const kiln_bmm_params *p, const int8_t *x, const int8_t *y, int8_t *output) {
  int32_t b, i, j, k;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *xb = x + p->x_base[b];
    const int8_t *yb = y + p->y_base[b];
    int8_t *out = output + b * p->rows * p->cols;
    for (i = 0; i < p->rows; ++i) {
      for (j = 0; j < p->cols; ++j) {
        int32_t total = 0;
        int32_t v;
        for (k = 0; k < p->depth; ++k) {
          total += ((int32_t)xb[i * p->x_row_stride + k * p->x_depth_stride] + p->x_offset) *
                   ((int32_t)yb[j * p->y_col_stride + k * p->y_depth_stride] + p->y_offset);
        }
        v = kiln_mbqm(total, p->out_multiplier, p->out_shift) + p->output_offset;
        out[i * p->cols + j] = (int8_t)kiln_clamp_i32(v, p->act_min, p->act_max);
      }
    }
  }
}

static int16_t kiln_requantize_s16(int64_t acc, const kiln_conv16_params *p, int32_t c) {
  int64_t y = kiln_mbqm64(acc, p->out_multiplier[c], p->out_shift[c]);
  y = y < p->act_min ? p->act_min : y;
  y = y > p->act_max ? p->act_max : y;
  return (int16_t)y;
}

void kiln_conv_s16(const kiln_conv16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, int16_t *output) {
  const int32_t filter_c = p->in_c / p->groups;
  const int32_t per_group = p->out_c / p->groups;
  int32_t b, oy, ox, oc, fy, fx, ic;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t y_origin = oy * p->stride_h - p->pad_top;
      int32_t fy0, fy1;
      kiln_tap_range(y_origin, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t x_origin = ox * p->stride_w - p->pad_left;
        int32_t fx0, fx1;
        kiln_tap_range(x_origin, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        for (oc = 0; oc < p->out_c; ++oc) {
          const int32_t c0 = (oc / per_group) * filter_c;
          int64_t acc = 0;
          for (fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = y_origin + fy * p->dilation_h;
            for (fx = fx0; fx < fx1; ++fx) {
              const int32_t ix = x_origin + fx * p->dilation_w;
              const int16_t *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c + c0;
              const int8_t *w = filter + ((oc * p->filter_h + fy) * p->filter_w + fx) * filter_c;
              for (ic = 0; ic < filter_c; ++ic) acc += (int32_t)in[ic] * w[ic];
            }
          }
          if (bias != NULL) acc += bias[oc];
          output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] = kiln_requantize_s16(acc, p, oc);
        }
      }
    }
  }
}

void kiln_depthwise_conv_s16(const kiln_conv16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oy, ox, oc, fy, fx;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t y_origin = oy * p->stride_h - p->pad_top;
      int32_t fy0, fy1;
      kiln_tap_range(y_origin, p->dilation_h, p->filter_h, p->in_h, &fy0, &fy1);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t x_origin = ox * p->stride_w - p->pad_left;
        int32_t fx0, fx1;
        kiln_tap_range(x_origin, p->dilation_w, p->filter_w, p->in_w, &fx0, &fx1);
        for (oc = 0; oc < p->out_c; ++oc) {
          const int32_t ic = oc / p->depth_multiplier;
          int64_t acc = 0;
          for (fy = fy0; fy < fy1; ++fy) {
            const int32_t iy = y_origin + fy * p->dilation_h;
            for (fx = fx0; fx < fx1; ++fx) {
              const int32_t ix = x_origin + fx * p->dilation_w;
              acc += (int32_t)input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic] *
                     filter[(fy * p->filter_w + fx) * p->out_c + oc];
            }
          }
          if (bias != NULL) acc += bias[oc];
          output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] = kiln_requantize_s16(acc, p, oc);
        }
      }
    }
  }
}

void kiln_fully_connected_s16(const kiln_fc16_params *p, const int16_t *input, const int8_t *filter,
                              const int64_t *bias, int16_t *output) {
  int32_t b, u, d;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *x = input + b * p->depth;
    for (u = 0; u < p->units; ++u) {
      const int8_t *w = filter + u * p->depth;
      const int32_t entry = p->per_channel ? u : 0;
      int64_t acc = 0;
      int64_t y;
      for (d = 0; d < p->depth; ++d) acc += (int32_t)x[d] * w[d];
      if (bias != NULL) acc += bias[u];
      /* the compiler proved |acc| < 2^31 */
      if (p->out_rescale != NULL) {
        const kiln_rescale r = kiln_rescale_load(p->out_rescale + entry * KILN_RESCALE_WORDS);
        y = kiln_linear_rescale((int32_t)acc, &r);
      } else {
        y = kiln_f64_rescale((int32_t)acc, p->out_scale + entry * KILN_F64_WORDS);
      }
      y = y < p->act_min ? p->act_min : y;
      y = y > p->act_max ? p->act_max : y;
      output[b * p->units + u] = (int16_t)y;
    }
  }
}

void kiln_svdf_f32(const kiln_svdf_params *p, const float *input, const float *weights_feature,
                   const float *weights_time, const float *bias, float *state, float *output,
                   float *scratch) {
  const int32_t total = p->batches * p->filters * p->memory;
  int32_t i, b, f, m, u, r;
  for (i = 0; i + 1 < total; ++i) state[i] = state[i + 1];
  for (b = 0; b < p->batches; ++b) {
    const float *x = input + b * p->input_size;
    for (f = 0; f < p->filters; ++f) {
      const float *w = weights_feature + f * p->input_size;
      float dot = 0.0f;
      for (i = 0; i < p->input_size; ++i) dot += w[i] * x[i];
      state[(b * p->filters + f) * p->memory + p->memory - 1] = dot;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (f = 0; f < p->filters; ++f) {
      const float *w = weights_time + f * p->memory;
      const float *s = state + (b * p->filters + f) * p->memory;
      float dot = 0.0f;
      for (m = 0; m < p->memory; ++m) dot += w[m] * s[m];
      scratch[b * p->filters + f] = dot;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    const float *s = scratch + b * p->filters;
    for (u = 0; u < p->units; ++u) {
      float v = bias != NULL ? bias[u] : 0.0f;
      for (r = 0; r < p->rank; ++r) v += s[u * p->rank + r];
      output[b * p->units + u] = kiln_clamp_f32(v, p->act_min_f, p->act_max_f);
    }
  }
}

/* One gate's pre-activation, as TFLite's CalculateLstmGateFloat: bias (0 with layer norm) + dot(w[c], x) +
 * dot(rw[c], h) (each dot summed from 0.0f on its own, then added) + peephole[c] * cell[c]; with layer norm the
 * cells are then normalized (mean and variance over the cells, 1 / sqrtf(variance + 1e-8f)), scaled by the
 * coefficients and the bias added. */
static void kiln_lstm_gate(const float *bias, const float *w, const float *x, int32_t inputs, const float *rw,
                           const float *h, int32_t outputs, const float *peephole, const float *cell,
                           const float *layer_norm, int32_t cells, float *gate) {
  int32_t c, k;
  for (c = 0; c < cells; ++c) {
    float v = layer_norm != NULL ? 0.0f : bias[c];
    float dot = 0.0f;
    for (k = 0; k < inputs; ++k) dot += w[c * inputs + k] * x[k];
    v += dot;
    dot = 0.0f;
    for (k = 0; k < outputs; ++k) dot += rw[c * outputs + k] * h[k];
    v += dot;
    if (peephole != NULL) v += peephole[c] * cell[c];
    gate[c] = v;
  }
  if (layer_norm != NULL) {
    float sum = 0.0f;
    float sum_diff_sq = 0.0f;
    float mean, stddev_inv;
    for (c = 0; c < cells; ++c) sum += gate[c];
    mean = sum / (float)cells;
    for (c = 0; c < cells; ++c) {
      const float diff = gate[c] - mean;
      sum_diff_sq += diff * diff;
    }
    stddev_inv = 1.0f / sqrtf(sum_diff_sq / (float)cells + 1e-8f);
    for (c = 0; c < cells; ++c) gate[c] = (gate[c] - mean) * stddev_inv * layer_norm[c] + bias[c];
  }
}

static float kiln_lstm_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

/* The cell activation, TFLite's ApplyActivationToVector by fused-activation code. */
static float kiln_lstm_activation(int32_t activation, float v) {
  switch (activation) {
    case 1: return v > 0.0f ? v : 0.0f;                              /* RELU */
    case 2: return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);         /* RELU_N1_TO_1 */
    case 3: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);           /* RELU6 */
    case 5: return signbit(v) ? 1.0f : 0.0f;                          /* SIGN_BIT */
    default: return tanhf(v);                                         /* TANH */
  }
}

void kiln_sequence_lstm_f32(const kiln_lstm_params *p, const float *input,
                            const float *const input_weights[4], const float *const recurrent_weights[4],
                            const float *const biases[4], const float *const peephole[4],
                            const float *const layer_norm[4], const float *projection_weights,
                            const float *projection_bias, float *output_state, float *cell_state,
                            float *output, float *scratch) {
  const int32_t n = p->cells;
  const int32_t m = p->outputs;
  float *ig = scratch;
  float *fg = scratch + n;
  float *cg = scratch + 2 * n;
  float *og = scratch + 3 * n;
  float *hidden = scratch + 4 * n;
  int32_t b, t, c, k;
  for (b = 0; b < p->batches; ++b) {
    float *h = output_state + b * m;
    float *cs = cell_state + b * n;
    for (t = 0; t < p->steps; ++t) {
      const int32_t row = p->time_major ? t * p->batches + b : b * p->steps + t;
      const float *x = input + row * p->inputs;
      float *out = output + row * m;
      /* the input and forget gates' peepholes see the old cell state, the output gate's the updated one */
      if (!p->cifg) {
        kiln_lstm_gate(biases[0], input_weights[0], x, p->inputs, recurrent_weights[0], h, m, peephole[0], cs,
                       layer_norm[0], n, ig);
      }
      kiln_lstm_gate(biases[1], input_weights[1], x, p->inputs, recurrent_weights[1], h, m, peephole[1], cs,
                     layer_norm[1], n, fg);
      kiln_lstm_gate(biases[2], input_weights[2], x, p->inputs, recurrent_weights[2], h, m, NULL, cs,
                     layer_norm[2], n, cg);
      for (c = 0; c < n; ++c) {
        const float f = kiln_lstm_sigmoid(fg[c]);
        const float i = p->cifg ? 1.0f - f : kiln_lstm_sigmoid(ig[c]);
        float cell = f * cs[c];
        cell += kiln_lstm_activation(p->activation, cg[c]) * i;
        if (p->cell_clip > 0.0f) {
          if (cell > p->cell_clip) cell = p->cell_clip;
          if (cell < -p->cell_clip) cell = -p->cell_clip;
        }
        cs[c] = cell;
      }
      kiln_lstm_gate(biases[3], input_weights[3], x, p->inputs, recurrent_weights[3], h, m, peephole[3], cs,
                     layer_norm[3], n, og);
      for (c = 0; c < n; ++c) hidden[c] = kiln_lstm_sigmoid(og[c]) * kiln_lstm_activation(p->activation, cs[c]);
      if (projection_weights == NULL) {
        for (c = 0; c < n; ++c) h[c] = hidden[c];
      } else {
        /* TFLite's CalculateLstmOutputFloat: the bias (or 0) plus the dot summed from 0.0f, then proj_clip */
        for (c = 0; c < m; ++c) {
          float dot = 0.0f;
          float v = projection_bias != NULL ? projection_bias[c] : 0.0f;
          for (k = 0; k < n; ++k) dot += projection_weights[c * n + k] * hidden[k];
          v += dot;
          if (p->proj_clip > 0.0f) {
            if (v > p->proj_clip) v = p->proj_clip;
            if (v < -p->proj_clip) v = -p->proj_clip;
          }
          h[c] = v;
        }
      }
      for (c = 0; c < m; ++c) out[c] = h[c];
    }
  }
}

/* The int32 the reference's int32 sum holds after wrapping (its overflow wraps on every target TFLite
 * runs on); computed in 64 bits, converted modulo 2^32 as gcc and clang define it. */
static int32_t kiln_wrap_i32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

void kiln_svdf_s8(const kiln_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                  const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output,
                  int32_t *scratch) {
  const int32_t total = p->batches * p->filters * p->memory;
  int32_t i, b, f, m, u, r;
  for (i = 0; i + 1 < total; ++i) state[i] = state[i + 1];
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * p->input_size;
    for (f = 0; f < p->filters; ++f) {
      const int8_t *w = weights_feature + f * p->input_size;
      int32_t dot = 0;
      for (i = 0; i < p->input_size; ++i) dot += (int32_t)w[i] * ((int32_t)x[i] + p->input_offset);
      state[(b * p->filters + f) * p->memory + p->memory - 1] =
          (int16_t)kiln_clamp_i32(kiln_mbqm(dot, p->multiplier_1, p->shift_1), -32768, 32767);
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (f = 0; f < p->filters; ++f) {
      const int16_t *w = weights_time + f * p->memory;
      const int16_t *s = state + (b * p->filters + f) * p->memory;
      int64_t dot = 0;
      for (m = 0; m < p->memory; ++m) dot += (int32_t)w[m] * s[m];
      scratch[b * p->filters + f] = kiln_wrap_i32(dot);
    }
  }
  for (b = 0; b < p->batches; ++b) {
    const int32_t *s = scratch + b * p->filters;
    for (u = 0; u < p->units; ++u) {
      int64_t sum = bias != NULL ? bias[u] : 0;
      int32_t v;
      for (r = 0; r < p->rank; ++r) sum += s[u * p->rank + r];
      v = kiln_mbqm(kiln_wrap_i32(sum), p->multiplier_2, p->shift_2) + p->output_offset;
      output[b * p->units + u] = (int8_t)kiln_clamp_i32(v, -128, 127);
    }
  }
}
