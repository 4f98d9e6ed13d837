/*
 * PAD (any rank <= 6, shapes extended with leading 1s): every output row (last dimension) is
 * either entirely padding or before[5] pad values, one input row, after[5] pad values.
 * int8 pads with the output zero point, float32 with 0.0f.
 */
#include "kiln_nn.h"

void kiln_pad_s8(const kiln_pad_params *p, const int8_t *input, int8_t *output, int8_t pad_value) {
  const int32_t *in = p->in_dims;
  const int32_t *lo = p->before;
  int32_t out[KILN_PAD_MAX_RANK];
  int32_t i[5];
  int32_t k;
  for (k = 0; k < KILN_PAD_MAX_RANK; ++k) out[k] = p->before[k] + in[k] + p->after[k];
  for (i[0] = 0; i[0] < out[0]; ++i[0]) {
    for (i[1] = 0; i[1] < out[1]; ++i[1]) {
      for (i[2] = 0; i[2] < out[2]; ++i[2]) {
        for (i[3] = 0; i[3] < out[3]; ++i[3]) {
          for (i[4] = 0; i[4] < out[4]; ++i[4]) {
            int inside = 1;
            size_t row = 0;
            int32_t x;
            for (k = 0; k < 5; ++k) {
              const int32_t j = i[k] - lo[k];
              if (j < 0 || j >= in[k]) inside = 0;
              row = row * (size_t)in[k] + (size_t)j;
            }
            if (!inside) {
              for (x = 0; x < out[5]; ++x) output[x] = pad_value;
            } else {
              const int8_t *in_row = input + row * (size_t)in[5];
              for (x = 0; x < lo[5]; ++x) output[x] = pad_value;
              for (x = 0; x < in[5]; ++x) output[lo[5] + x] = in_row[x];
              for (x = lo[5] + in[5]; x < out[5]; ++x) output[x] = pad_value;
            }
            output += out[5];
          }
        }
      }
    }
  }
}

void kiln_pad_f32(const kiln_pad_params *p, const float *input, float *output, float pad_value) {
  const int32_t *in = p->in_dims;
  const int32_t *lo = p->before;
  int32_t out[KILN_PAD_MAX_RANK];
  int32_t i[5];
  int32_t k;
  for (k = 0; k < KILN_PAD_MAX_RANK; ++k) out[k] = p->before[k] + in[k] + p->after[k];
  for (i[0] = 0; i[0] < out[0]; ++i[0]) {
    for (i[1] = 0; i[1] < out[1]; ++i[1]) {
      for (i[2] = 0; i[2] < out[2]; ++i[2]) {
        for (i[3] = 0; i[3] < out[3]; ++i[3]) {
          for (i[4] = 0; i[4] < out[4]; ++i[4]) {
            int inside = 1;
            size_t row = 0;
            int32_t x;
            for (k = 0; k < 5; ++k) {
              const int32_t j = i[k] - lo[k];
              if (j < 0 || j >= in[k]) inside = 0;
              row = row * (size_t)in[k] + (size_t)j;
            }
            if (!inside) {
              for (x = 0; x < out[5]; ++x) output[x] = pad_value;
            } else {
              const float *in_row = input + row * (size_t)in[5];
              for (x = 0; x < lo[5]; ++x) output[x] = pad_value;
              for (x = 0; x < in[5]; ++x) output[lo[5] + x] = in_row[x];
              for (x = lo[5] + in[5]; x < out[5]; ++x) output[x] = pad_value;
            }
            output += out[5];
          }
        }
      }
    }
  }
}
