/*
 * Kiln kernel library: data types TFLite Micro runs that the other kernel files leave out (Eval only).
 *
 * LOGISTIC and TANH on int16 (the 16x8 scheme: zero points 0, output scale 1/32768): TensorFlow
 * Lite 2.21's reference_integer_ops::Logistic / Tanh for int16, a 256-entry table of sigmoid(i/24)
 * in 0.16 fixed point, interpolated linearly. Kiln derives the input multiplier and shift at
 * compile time (Prepare in Java).
 *
 * RELU and RELU6 on int16: a rescale and a clamp (TFLite's QuantizedReluX).
 *
 * EXP, LOG, RSQRT and GELU on int16 (zero points 0): TFLite's 513-entry tables (LUTPopulate<int16_t>,
 * made at compile time) read with TFLite's interpolating lookup (LUTLookup). No kernel allocates
 * or prints.
 */
#ifndef KILN_DTYPES_H
#define KILN_DTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_eltwise_math.h"
#include "kiln_nn2.h"

/* out[i] = logistic(in[i]); input_multiplier and input_left_shift as TFLite's SigmoidPrepare (int16). */
void kiln_logistic_s16(const int16_t *in, int16_t *out, size_t n, int32_t input_multiplier, int32_t input_left_shift);

/* out[i] = tanh(in[i]); input_multiplier and input_left_shift as TFLite's TanhPrepare (int16). */
void kiln_tanh_s16(const int16_t *in, int16_t *out, size_t n, int32_t input_multiplier, int32_t input_left_shift);

/*
 * RELU / RELU6 on int16 (zero points 0): out = clamp(MultiplyByQuantizedMultiplier(in, multiplier, shift), lo, hi),
 * TFLite's QuantizedReluX.
 */
void kiln_relu_s16(const int16_t *in, int16_t *out, size_t n, int32_t multiplier, int32_t shift, int32_t lo, int32_t hi);

/*
 * BATCH_MATMUL int16 x int16 -> int16 (16x8, zero points 0): int64 sums of x(i, k) * y(k, j), TFLite's
 * 64-bit MultiplyByQuantizedMultiplier, clamped to [act_min, act_max]; the layout as kiln_batch_matmul_s8.
 */
void kiln_batch_matmul_s16(const kiln_bmm_params *p, const int16_t *x, const int16_t *y, int16_t *output);

/* out[i] = LUTLookup(in[i], lut): 512 steps of 128 input codes, linear interpolation between entries. */
void kiln_lut_s16(const kiln_lut16 *lut, const int16_t *in, int16_t *out, size_t n);

#endif
