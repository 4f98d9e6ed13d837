/*
 * Kiln kernel library: reductions, resampling and spatial rearrangement (Eval only).
 *
 * SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, MEAN (int16), ARG_MAX, ARG_MIN, CUMSUM, RESIZE_BILINEAR,
 * L2_NORMALIZATION, L2_POOL_2D, LOCAL_RESPONSE_NORMALIZATION, MAX_POOL_2D / AVERAGE_POOL_2D (int16),
 * SPACE_TO_BATCH_ND, and one gather kernel that serves every op whose output element reads one
 * input element (or a pad value) at an offset that is a sum of one term per output axis: PAD and
 * PADV2 (any dtype), MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, DEPTH_TO_SPACE, SPACE_TO_DEPTH,
 * BATCH_TO_SPACE_ND. Kiln computes those per-axis terms at compile time (Prepare in Java).
 *
 * The kernels reproduce TensorFlow Lite 2.21's reference kernels (BUILTIN_REF): integer outputs
 * bit-exact, float32 with the reference's order of operations. No kernel allocates or prints.
 */
#ifndef KILN_REDUCE_H
#define KILN_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_nn.h"

#define KILN_REDUCE_MAX_DIMS 6

/* ---------------------------------------------------------------------------------------------
 * Reductions over constant axes. The input is described as kept dimension groups (one output
 * element per index) and reduced groups, outermost first, each with its size and input stride;
 * the reduced elements of one output are visited in increasing input order (TFLite's order).
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t num_kept;
  int32_t kept_size[KILN_REDUCE_MAX_DIMS];
  int32_t kept_stride[KILN_REDUCE_MAX_DIMS];
  int32_t num_reduced;
  int32_t reduced_size[KILN_REDUCE_MAX_DIMS];
  int32_t reduced_stride[KILN_REDUCE_MAX_DIMS];
  int32_t count;               /* reduced elements per output */
  /* int8 SUM (reference_ops::QuantizedMeanOrSum, compute_sum): out = (int8)(roundf(sum * scale + bias) + z_out);
     int16 SUM: the same, clamped to int16 */
  float scale;                 /* s_in / s_out, in float32 */
  float bias;                  /* -z_in * scale * count, in float32 */
  int32_t output_zero_point;
  /* int16 MEAN: out = clamp(MBQM(sum - count * z_in, multiplier, shift) + z_out) */
  int32_t input_zero_point;
  int32_t multiplier;
  int32_t shift;
} kiln_reduce_params;

void kiln_reduce_max_f32(const kiln_reduce_params *p, const float *input, float *output);
void kiln_reduce_max_s8(const kiln_reduce_params *p, const int8_t *input, int8_t *output);
void kiln_reduce_max_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output);
void kiln_reduce_min_f32(const kiln_reduce_params *p, const float *input, float *output);
void kiln_reduce_min_s8(const kiln_reduce_params *p, const int8_t *input, int8_t *output);
void kiln_reduce_min_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output);
/* bool as uint8_t 0/1 */
void kiln_reduce_all_b(const kiln_reduce_params *p, const uint8_t *input, uint8_t *output);
void kiln_reduce_sum_f32(const kiln_reduce_params *p, const float *input, float *output);
void kiln_reduce_sum_s8(const kiln_reduce_params *p, const int8_t *input, int8_t *output);
/* int16: out = clamp(roundf(sum * scale + bias) + z_out) to int16 (bias and z_out are 0 in 16x8) */
void kiln_reduce_sum_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output);
void kiln_reduce_mean_s16(const kiln_reduce_params *p, const int16_t *input, int16_t *output);

/* ---------------------------------------------------------------------------------------------
 * ARG_MAX / ARG_MIN over one axis viewed as [outer, axis, inner]; the first extreme wins.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t outer, axis, inner;
  int32_t is_max;              /* 1: ARG_MAX, 0: ARG_MIN */
  int32_t output_64;           /* 1: int64 indices, 0: int32 */
} kiln_arg_params;

void kiln_arg_f32(const kiln_arg_params *p, const float *input, void *output);
void kiln_arg_s8(const kiln_arg_params *p, const int8_t *input, void *output);
void kiln_arg_s16(const kiln_arg_params *p, const int16_t *input, void *output);
void kiln_arg_s32(const kiln_arg_params *p, const int32_t *input, void *output);

/* ---------------------------------------------------------------------------------------------
 * CUMSUM over one axis viewed as [outer, axis, inner].
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t outer, axis, inner;
  int32_t exclusive, reverse;
} kiln_cumsum_params;

void kiln_cumsum_f32(const kiln_cumsum_params *p, const float *input, float *output);
/* int32 and int64 wrap around on overflow (two's complement), as the reference's Eigen scan does in practice */
void kiln_cumsum_s32(const kiln_cumsum_params *p, const int32_t *input, int32_t *output);
void kiln_cumsum_s64(const kiln_cumsum_params *p, const int64_t *input, int64_t *output);

/* ---------------------------------------------------------------------------------------------
 * Gather: output[i0..i5] = input[t0[i0] + ... + t5[i5]], or *pad_value when any term is < 0.
 * table holds out_dims[0] + ... + out_dims[5] terms (element offsets), axis k's from table_start[k].
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t out_dims[6];
  int32_t table_start[6];
  int32_t element_bytes;       /* 1, 2, 4 or 8 */
} kiln_index_table_params;

void kiln_index_table(const kiln_index_table_params *p, const int32_t *table, const void *input, const void *pad_value,
                 void *output);

/* ---------------------------------------------------------------------------------------------
 * SPACE_TO_BATCH_ND on NHWC (a 3-D [b, w, c] input has in_h = block_h = 1).
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t in_batch, in_h, in_w, depth;
  int32_t out_batch, out_h, out_w;
  int32_t block_h, block_w;
  int32_t pad_top, pad_left;
  int32_t element_bytes;
} kiln_space_to_batch_params;

void kiln_space_to_batch(const kiln_space_to_batch_params *p, const void *input, const void *pad_value, void *output);

/* ---------------------------------------------------------------------------------------------
 * RESIZE_BILINEAR (NHWC). Per output row y: rows y0[y], y1[y] and the weight of y1; per column
 * likewise. float32: weight = input_y - y0 (float); int8/int16: the 10-bit fixed-point
 * input_y - 1024 * y0 of reference_ops::ResizeBilinearInteger.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int32_t batches, in_h, in_w, channels, out_h, out_w;
} kiln_resize_params;

void kiln_resize_bilinear_f32(const kiln_resize_params *p, const int32_t *y0, const int32_t *y1, const float *wy,
                              const int32_t *x0, const int32_t *x1, const float *wx, const float *input,
                              float *output);
void kiln_resize_bilinear_s8(const kiln_resize_params *p, const int32_t *y0, const int32_t *y1, const int32_t *wy,
                             const int32_t *x0, const int32_t *x1, const int32_t *wx, const int8_t *input,
                             int8_t *output);
void kiln_resize_bilinear_s16(const kiln_resize_params *p, const int32_t *y0, const int32_t *y1, const int32_t *wy,
                              const int32_t *x0, const int32_t *x1, const int32_t *wx, const int16_t *input,
                              int16_t *output);

/* ---------------------------------------------------------------------------------------------
 * Normalizations and pools (float32 unless named).
 * ------------------------------------------------------------------------------------------- */

/* L2_NORMALIZATION over the last axis: x / max(sqrt(sum x^2), 1e-6). */
void kiln_l2_normalization_f32(int32_t outer, int32_t depth, const float *input, float *output);

/* int8 (reference_integer_ops::L2Normalization): output scale 1/128, zero point 0. */
void kiln_l2_normalization_s8(int32_t outer, int32_t depth, int32_t input_zero_point, const int8_t *input,
                              int8_t *output);

typedef struct {
  int32_t outer, depth, radius;
  float bias, alpha, beta;
} kiln_lrn_params;

/*
 * LOCAL_RESPONSE_NORMALIZATION: x * powf(bias + alpha * sum of x^2 over channels [c - r, c + r), -beta).
 * The window ends before c + r: TF 2.21's reference kernel does so (TensorFlow's own op includes c + r).
 */
void kiln_lrn_f32(const kiln_lrn_params *p, const float *input, float *output);

/* L2_POOL_2D: sqrt(mean of x^2 over the in-image taps), clamped by the fused activation. */
void kiln_l2_pool_f32(const kiln_pool_params *p, const float *input, float *output);
/* MAX_POOL_2D and AVERAGE_POOL_2D for int16 codes (16x8), as the int8 kernels. */
void kiln_max_pool_s16(const kiln_pool_params *p, const int16_t *input, int16_t *output);
void kiln_avg_pool_s16(const kiln_pool_params *p, const int16_t *input, int16_t *output);

#endif /* KILN_REDUCE_H */
