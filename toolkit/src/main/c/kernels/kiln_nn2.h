/*
 * Heavy NN kernels (Eval only), family nn2: TRANSPOSE_CONV (float32, int8, 16x8), BATCH_MATMUL
 * (float32, int8) and the 16x8 scheme (int16 activations with zero point 0, int8 symmetric
 * weights, int64 bias) of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.
 *
 * As in kiln_nn.h: Kiln computes every constant at compile time (Prepare in Java) and hands it
 * over in a const parameter struct; the kernels reproduce TensorFlow Lite 2.21's reference
 * kernels (BUILTIN_REF), bit-exact for the integer ones, and for float32 in the reference's
 * summation order. Layout NHWC; filters OHWI; no allocation, no libm.
 */
#ifndef KILN_NN2_H
#define KILN_NN2_H

#include <stddef.h>
#include <stdint.h>

/*
 * TFLite's 64-bit MultiplyByQuantizedMultiplier (the int16 kernels' requantization): the Q31
 * multiplier is first rounded to 16 bits, then x * q16 is rounded once, ties up:
 * q16 = q < 0x7FFF0000 ? (q + 2^15) >> 16 : 0x7FFF; y = (x * q16 + 2^(14 - shift)) >> (15 - shift).
 * Kiln's compiler guarantees -31 <= shift <= 14 and |x| < 2^47 (so nothing overflows 64 bits).
 */
static inline int64_t kiln_mbqm64(int64_t x, int32_t q, int32_t shift) {
  const int64_t q16 = q < 0x7FFF0000 ? ((int64_t)q + (1 << 15)) >> 16 : 0x7FFF;
  const int32_t total = 15 - shift;
  const int64_t v = x * q16 + ((int64_t)1 << (total - 1));
  /* floor(v / 2^total) without right-shifting a negative value (implementation-defined in C99) */
  return v >= 0 ? v >> total : ~(~v >> total);
}

/* ---------------------------------------------------------------------------------------------
 * TRANSPOSE_CONV: input [N, H, W, Cin], filter [Cout, KH, KW, Cin], output [N, OH, OW, Cout].
 * Input pixel (iy, ix) scatters into output (iy * stride_h - pad_top + fy, ix * stride_w -
 * pad_left + fx); the kernels gather instead, visiting for each output element its inputs in
 * increasing (iy, ix, ic), the order in which the reference's scatter adds them.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t batches;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t filter_h, filter_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  /* integer kernels */
  int32_t input_offset;              /* int8: -(input zero point); int16: 0 */
  int32_t output_offset;             /* int8: +(output zero point); int16: 0 */
  int32_t act_min, act_max;
  const int32_t *out_multiplier;     /* [out_c] Q31 multipliers */
  const int32_t *out_shift;          /* [out_c] exponents, > 0 shifts left */
  /* float32 */
  float act_min_f, act_max_f;
} kiln_tconv_params;

/* float32: out = clamp(sum + bias[oc]); bias may be NULL. */
void kiln_transpose_conv_f32(const kiln_tconv_params *p, const float *input, const float *filter,
                             const float *bias, float *output);

/* int8 (per-channel or per-tensor filter scales): MBQM(acc + bias) + zero point, clamped. */
void kiln_transpose_conv_s8(const kiln_tconv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output);

/* 16x8: int64 accumulator, kiln_mbqm64, clamped; bias int64 or NULL. */
void kiln_transpose_conv_s16(const kiln_tconv_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output);

/* ---------------------------------------------------------------------------------------------
 * BATCH_MATMUL: out[b, i, j] = sum_k x[b, i, k] * y[b, k, j], where the compiler has folded
 * adj_x/adj_y and the batch broadcast into strides and per-batch matrix offsets.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t batches;                   /* output matrices */
  int32_t rows, cols, depth;         /* each output matrix is [rows, cols]; depth summed terms */
  const int32_t *x_base;             /* [batches] element offset of batch b's x matrix */
  const int32_t *y_base;             /* [batches] element offset of batch b's y matrix */
  int32_t x_row_stride, x_depth_stride;  /* x(i, k) = x[x_base[b] + i * x_row_stride + k * x_depth_stride] */
  int32_t y_col_stride, y_depth_stride;  /* y(k, j) = y[y_base[b] + j * y_col_stride + k * y_depth_stride] */
  /* int8 */
  int32_t x_offset, y_offset;        /* -(zero points) */
  int32_t output_offset;
  int32_t act_min, act_max;
  int32_t out_multiplier, out_shift;
} kiln_bmm_params;

/* float32: total = 0.0f, k ascending, no bias, no activation. */
void kiln_batch_matmul_f32(const kiln_bmm_params *p, const float *x, const float *y, float *output);

/* int8: int32 sum of (x + x_offset)(y + y_offset), MBQM, + zero point, clamped to int8. */
void kiln_batch_matmul_s8(const kiln_bmm_params *p, const int8_t *x, const int8_t *y, int8_t *output);

/* ---------------------------------------------------------------------------------------------
 * 16x8 CONV_2D and DEPTHWISE_CONV_2D (reference_integer_ops ConvPerChannel / DepthwiseConvPerChannel
 * for int16): acc = sum w * x in 64 bits (zero points 0) + bias, kiln_mbqm64, clamped.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t batches;
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t filter_h, filter_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  int32_t groups;                    /* CONV_2D: in_c / filter depth */
  int32_t depth_multiplier;          /* DEPTHWISE_CONV_2D: out_c / in_c */
  int32_t act_min, act_max;
  const int32_t *out_multiplier;
  const int32_t *out_shift;
} kiln_conv16_params;

void kiln_conv_s16(const kiln_conv16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, int16_t *output);

void kiln_depthwise_conv_s16(const kiln_conv16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, int16_t *output);

/*
 * 16x8 FULLY_CONNECTED: TF 2.21's reference rescales with one rounding of a double product,
 * round(double(acc) * M), like its int8 FULLY_CONNECTED; the compiler proves the 64-bit sum
 * fits in int32 and hands over the same exact integer rescale tables (out_rescale,
 * KILN_RESCALE_WORDS per entry) or the double's words (out_scale, KILN_F64_WORDS per entry) as
 * kiln_fully_connected_s8 takes (kiln_nn.h).
 */
typedef struct {
  int32_t batches, depth, units;
  int32_t act_min, act_max;
  int32_t per_channel;
  const int32_t *out_scale;
  const int32_t *out_rescale;
} kiln_fc16_params;

void kiln_fully_connected_s16(const kiln_fc16_params *p, const int16_t *input, const int8_t *filter,
                              const int64_t *bias, int16_t *output);

/* ---------------------------------------------------------------------------------------------
 * Stateful kernels: the state is a variable tensor the caller keeps between runs (a static
 * buffer, zero at start) and the kernel updates in place.
 * ------------------------------------------------------------------------------------------- */

/*
 * SVDF float32 (TFLite's reference EvalFloat): shift the whole state [batch, filters, memory] left
 * by one, write each filter's feature dot(weights_feature[f], input[b]) into its last memory slot,
 * scratch[b, f] = dot(weights_time[f], state[b, f]), out[b, u] = bias[u] (or 0) + the rank
 * scratch values of unit u, then the clamp of the fused activation.
 * scratch: batches * filters floats.
 */
typedef struct {
  int32_t batches, input_size, filters, memory, rank, units;
  float act_min_f, act_max_f;
} kiln_svdf_params;

void kiln_svdf_f32(const kiln_svdf_params *p, const float *input, const float *weights_feature,
                   const float *weights_time, const float *bias, float *state, float *output,
                   float *scratch);

/*
 * SVDF full integer (TFLite's EvalIntegerSVDF): int8 input and weights_feature, int16 weights_time
 * and state (zero point 0), int32 bias. Shift the state; each feature sum_i w[f, i] (x[b, i] -
 * z_in) becomes MBQM(sum, scale 1) clamped to int16 in the last memory slot; scratch[b, f] =
 * sum_m weights_time[f, m] * state[b, f, m] (int32); out = MBQM(bias[u] + the rank scratch values,
 * scale 2) + z_out, clamped to int8 (the reference applies no fused activation here).
 * scratch: batches * filters int32.
 */
typedef struct {
  int32_t batches, input_size, filters, memory, rank, units;
  int32_t input_offset;              /* -(input zero point) */
  int32_t output_offset;             /* +(output zero point) */
  int32_t multiplier_1, shift_1;     /* s_in * s_feature / s_state */
  int32_t multiplier_2, shift_2;     /* s_state * s_time / s_out */
} kiln_svdf_s8_params;

void kiln_svdf_s8(const kiln_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                  const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output,
                  int32_t *scratch);

/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM float32 (TFLite's lstm_eval EvalFloat): per step, each gate = bias +
 * dot(input weights, x) + dot(recurrent weights, h) (each dot summed from 0.0f on its own) + peephole
 * weights * cell state; with layer norm the gate starts at 0, is normalized over the cells, times its
 * coefficients, plus the bias. Sigmoid (1 / (1 + expf(-v))) for the input, forget and output gates, the
 * cell activation act (tanhf, or RELU, RELU_N1_TO_1, RELU6, SIGN_BIT) for the cell gate; c = f * c + g * i
 * (CIFG: i = 1 - f), clipped to +-cell_clip if cell_clip > 0; the output gate (its peephole on the updated
 * c); hidden = o * act(c); h = hidden, or
 * with a projection h = projection bias (or 0) + dot(projection weights, hidden), clipped to +-proj_clip
 * if proj_clip > 0. h and c are the variable tensors. Weights [cells, inputs] and [cells, outputs];
 * projection [outputs, cells]. Per gate (input, forget, cell, output): w[0]/r[0]/b[0] NULL for CIFG;
 * peephole[g] / layer_norm[g] NULL when absent (peephole[2] unused). scratch: 5 * cells floats.
 */
typedef struct {
  int32_t batches, steps, inputs, cells;
  int32_t outputs;                   /* output state width: cells, or the projection's rows */
  int32_t time_major;                /* 1: input [steps, batch, inputs]; 0: [batch, steps, inputs] */
  int32_t cifg;                      /* 1: no input gate (i = 1 - f) */
  float cell_clip;                   /* 0: none */
  float proj_clip;                   /* 0: none */
  int32_t activation;                /* TFLite's fused-activation code: 4 TANH, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6, 5 SIGN_BIT */
} kiln_lstm_params;

void kiln_sequence_lstm_f32(const kiln_lstm_params *p, const float *input,
                            const float *const input_weights[4], const float *const recurrent_weights[4],
                            const float *const biases[4], const float *const peephole[4],
                            const float *const layer_norm[4], const float *projection_weights,
                            const float *projection_bias, float *output_state, float *cell_state,
                            float *output, float *scratch);

#endif /* KILN_NN2_H */
