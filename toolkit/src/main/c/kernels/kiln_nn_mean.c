/*
 * MEAN. The compiler describes the input as kept dimensions (one output element per index) and
 * reduced dimensions, outermost first, each with its size and input stride; for one output the
 * reduced elements are visited in increasing input order, the order in which TFLite's reference
 * Reduce adds them up.
 *
 * int8 (TF 2.21 reference QuantizedMeanOrSum): the raw codes are summed in int32, the zero point
 * is removed as count * z_in, and a single MBQM whose multiplier already includes 1/count
 * (derived at compile time) rescales: out = clamp(MBQM(sum - count * z_in) + z_out).
 * float32: sum in float32, then one division by (float)count.
 */
#include "kiln_fixedpoint.h"
#include "kiln_nn.h"

static int32_t kiln_mean_sum_s8(const kiln_mean_params *p, const int8_t *base) {
  const int32_t inner = p->num_reduced - 1;
  const int32_t inner_size = p->reduced_size[inner];
  const int32_t inner_stride = p->reduced_stride[inner];
  int32_t index[KILN_MEAN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t offset = 0;
  int32_t sum = 0;
  for (;;) {
    const int8_t *in = base + offset;
    int32_t i;
    int32_t d;
    for (i = 0; i < inner_size; ++i) {
      sum += in[0];
      in += inner_stride;
    }
    for (d = inner - 1; d >= 0; --d) {
      offset += p->reduced_stride[d];
      if (++index[d] < p->reduced_size[d]) break;
      offset -= p->reduced_stride[d] * p->reduced_size[d];
      index[d] = 0;
    }
    if (d < 0) return sum;
  }
}

static float kiln_mean_sum_f32(const kiln_mean_params *p, const float *base) {
  const int32_t inner = p->num_reduced - 1;
  const int32_t inner_size = p->reduced_size[inner];
  const int32_t inner_stride = p->reduced_stride[inner];
  int32_t index[KILN_MEAN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t offset = 0;
  float sum = 0.0f;
  for (;;) {
    const float *in = base + offset;
    int32_t i;
    int32_t d;
    for (i = 0; i < inner_size; ++i) {
      sum += in[0];
      in += inner_stride;
    }
    for (d = inner - 1; d >= 0; --d) {
      offset += p->reduced_stride[d];
      if (++index[d] < p->reduced_size[d]) break;
      offset -= p->reduced_stride[d] * p->reduced_size[d];
      index[d] = 0;
    }
    if (d < 0) return sum;
  }
}

void kiln_mean_s8(const kiln_mean_params *p, const int8_t *input, int8_t *output) {
  const int32_t zero_point_sum = p->count * p->input_zero_point;
  int32_t index[KILN_MEAN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t offset = 0;
  for (;;) {
    const int32_t sum = kiln_mean_sum_s8(p, input + offset) - zero_point_sum;
    const int32_t value = kiln_mbqm(sum, p->multiplier, p->shift) + p->output_zero_point;
    int32_t d;
    *output++ = (int8_t)kiln_clamp_i32(value, -128, 127);
    for (d = p->num_kept - 1; d >= 0; --d) {
      offset += p->kept_stride[d];
      if (++index[d] < p->kept_size[d]) break;
      offset -= p->kept_stride[d] * p->kept_size[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

void kiln_mean_f32(const kiln_mean_params *p, const float *input, float *output) {
  const float count = (float)p->count;
  int32_t index[KILN_MEAN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t offset = 0;
  for (;;) {
    const float sum = kiln_mean_sum_f32(p, input + offset);
    int32_t d;
    *output++ = sum / count;
    for (d = p->num_kept - 1; d >= 0; --d) {
      offset += p->kept_stride[d];
      if (++index[d] < p->kept_size[d]) break;
      offset -= p->kept_stride[d] * p->kept_size[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}
