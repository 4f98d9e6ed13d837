/*
 * Kiln kernel library: per-element and per-row ops (Eval only).
 *
 * SOFTMAX, ADD, SUB, MUL, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH,
 * RELU, RELU6 with the arithmetic of TensorFlow Lite 2.21's reference kernels
 * (tflite-numerics.md sections 5 to 8). Every parameter below is computed at
 * compile time by the Java emitters (Prepare); these functions never check
 * or derive anything, they only loop.
 *
 * Conventions: an "offset" is added to a code (input offsets are the negated
 * zero points, the output offset is the output zero point); a "right_shift"
 * or "left_shift" field holds a shift count >= 0 in that direction.
 */
#ifndef KILN_ELTWISE_H
#define KILN_ELTWISE_H

#include <float.h> /* FLT_MAX in generated activation bounds */
#include <stdint.h>

/* ---------------------------------------------------------------------- */
/* Broadcasting of binary ops (numpy rules, up to 6 dimensions).          */
/* ---------------------------------------------------------------------- */

#define KILN_BCAST_RANK 6

/*
 * The output's shape, outermost dimension first, after the compiler merged
 * dimensions that broadcast alike and padded the result with leading 1s; the
 * element step of each input along each dimension (0 where that input is
 * broadcast). Two inputs of the same shape become {1,1,1,1,1,count} with unit
 * innermost steps: one flat loop.
 */
typedef struct {
  int32_t shape[KILN_BCAST_RANK];
  int32_t stride1[KILN_BCAST_RANK];
  int32_t stride2[KILN_BCAST_RANK];
} kiln_bcast;

/* ---------------------------------------------------------------------- */
/* ADD and SUB, int8 (section 6.1). SUB has the same parameters and        */
/* subtracts the two rescaled inputs (TF 2.21 reference SubElementwise).   */
/* ---------------------------------------------------------------------- */

/* Both inputs are scaled by 2^KILN_ADD_LEFT_SHIFT before requantization. */
#define KILN_ADD_LEFT_SHIFT 20

typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;      /* -z1 */
  int32_t input1_multiplier;  /* Q31 */
  int32_t input1_right_shift; /* >= 0 */
  int32_t input2_offset;      /* -z2 */
  int32_t input2_multiplier;  /* Q31 */
  int32_t input2_right_shift;
  int32_t output_multiplier;
  int32_t output_right_shift;
  int32_t output_offset;      /* +z_out */
  int32_t act_min;            /* fused activation clamp, in output codes */
  int32_t act_max;
  /* Optional (both or neither; NULL = compute per element): a code's rescaled
   * input, RDBPOT(SRDHM((code - z) * 2^20, multiplier), right_shift), is
   * base + code * step + residual[code + 128] (for SUB, input 2's is that
   * value negated). The compiler splits the 256 values so (they lie within 1
   * of a line; the step is the slope rounded to the side that keeps the
   * residuals in [-127, 127]: 256 bytes instead of 1 KiB) and emits them for
   * large tensors. */
  int32_t input1_base, input1_step;
  int32_t input2_base, input2_step;
  const int8_t *input1_residual;
  const int8_t *input2_residual;
} kiln_add_s8_params;

void kiln_add_s8(const kiln_add_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y);
void kiln_sub_s8(const kiln_add_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y);

/* ---------------------------------------------------------------------- */
/* MUL, int8 (section 6.2).                                                */
/* ---------------------------------------------------------------------- */

typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;      /* -z1 */
  int32_t input2_offset;      /* -z2 */
  int32_t output_multiplier;  /* Q31 */
  int32_t output_left_shift;  /* only one of the two shifts is non-zero */
  int32_t output_right_shift;
  int32_t output_offset;      /* +z_out */
  int32_t act_min;
  int32_t act_max;
} kiln_mul_s8_params;

void kiln_mul_s8(const kiln_mul_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y);

/* ---------------------------------------------------------------------- */
/* ADD, SUB, MUL, float32: y = clamp(x1 op x2, act_min, act_max).          */
/* ---------------------------------------------------------------------- */

typedef struct {
  kiln_bcast bc;
  float act_min;  /* -FLT_MAX without a fused activation */
  float act_max;
} kiln_arith_f32_params;

void kiln_add_f32(const kiln_arith_f32_params *p, const float *x1, const float *x2, float *y);
void kiln_sub_f32(const kiln_arith_f32_params *p, const float *x1, const float *x2, float *y);
void kiln_mul_f32(const kiln_arith_f32_params *p, const float *x1, const float *x2, float *y);

/* ---------------------------------------------------------------------- */
/* SOFTMAX over the last axis (section 5).                                 */
/* ---------------------------------------------------------------------- */

/*
 * 1 when a model has an int8 SOFTMAX small enough (SoftmaxEmitter.EXP_RUNTIME_MAX_VALUES values in
 * the compiler) that computing its exponentials costs fewer bytes than the 4-byte-per-entry table:
 * kiln_softmax_exp_q5 is compiled in and the ops with input_shift >= 0 call it. Set by the
 * generator in that model's copy (as KILN_CONV_S8_PORTABLE_USED in kiln_nn.h).
 */
#ifndef KILN_SOFTMAX_EXP_RUNTIME_USED
#define KILN_SOFTMAX_EXP_RUNTIME_USED 0
#endif

typedef struct {
  int32_t rows;              /* product of all but the last dimension */
  int32_t depth;             /* last dimension, < 4096 */
  int16_t diff_min;          /* codes further than this below the row max give 0 (>= -255) */
  int16_t input_shift;       /* -1: exp.table; else the run-time form: the exponential of diff is
                                kiln_softmax_exp_q5(srdhm(diff << input_shift, exp.input_multiplier)) */
  union {
    const int32_t *table;    /* [1 - diff_min]: Q0 exp of diff = -index (made at compile time; the
                                compiler raises diff_min to the last non-zero entry) */
    int32_t input_multiplier; /* beta * input scale * 2^26 as Q31 multiplier and input_shift */
  } exp;
} kiln_softmax_s8_params;

/*
 * int8 in, int8 out with scale 1/256 and zero point -128 (gemmlowp fixed
 * point); the exponentials come from p->exp.table or are computed (input_shift >= 0, the values
 * the table would hold). A row whose exponentials sum to 512 or more
 * (possible only for depth >= 512 with flat rows) outputs -128 everywhere:
 * every probability is below 1/512; TFLite's reference kernel aborts there.
 */
void kiln_softmax_s8(const kiln_softmax_s8_params *p, const int8_t *x, int8_t *y);

/*
 * int8 in, int16 out with scale 1/65536 and zero point -32768 (TFLite's reference Softmax<int8_t, int16_t>):
 * the same exponentials and reciprocal, the probability rounded to 16 bits.
 */
void kiln_softmax_s8_s16(const kiln_softmax_s8_params *p, const int8_t *x, int16_t *y);

/*
 * gemmlowp exp_on_negative_values for a Q5.26 argument a <= 0, result in Q0 (TFLite's reference
 * int8 softmax evaluates it per element; Kiln's compiler tabulates it, SoftmaxExpTable, and uses
 * this only for small rows). Compiled only with KILN_SOFTMAX_EXP_RUNTIME_USED.
 */
int32_t kiln_softmax_exp_q5(int32_t a);

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a in [0, 1), Q0 in and out. */
int32_t kiln_one_over_one_plus_x_for_x_in_0_1(int32_t a);

typedef struct {
  int32_t rows;
  int32_t depth;
  float beta;
} kiln_softmax_f32_params;

void kiln_softmax_f32(const kiln_softmax_f32_params *p, const float *x, float *y);

/* ---------------------------------------------------------------------- */
/* Unary int8/uint8 ops as 256-entry tables built at compile time:         */
/* LOGISTIC, TANH, RELU, RELU6 and (re)quantization between 8-bit types.   */
/* ---------------------------------------------------------------------- */

/* y[i] = table[x[i] + 128] */
void kiln_lut_s8(const int8_t table[256], const int8_t *x, int8_t *y, int32_t count);

/* y[i] = table[x[i]] on raw bytes (uint8 input and/or output) */
void kiln_lut_u8(const uint8_t table[256], const uint8_t *x, uint8_t *y, int32_t count);

/* ---------------------------------------------------------------------- */
/* float32 activations.                                                    */
/* ---------------------------------------------------------------------- */

/* y = min(max(x, lo), hi): RELU is lo = 0, hi = FLT_MAX; RELU6 is 0, 6. */
void kiln_clamp_array_f32(const float *x, float *y, int32_t count, float lo, float hi);
void kiln_logistic_f32(const float *x, float *y, int32_t count);
void kiln_tanh_f32(const float *x, float *y, int32_t count);

/* ---------------------------------------------------------------------- */
/* QUANTIZE float32 -> int8/uint8 (section 8.3) and DEQUANTIZE (8.4).      */
/* ---------------------------------------------------------------------- */

/* y = clamp(round_half_away(x / scale) + zero_point): float32 division.
 * Quotients beyond +-512 (and infinities) saturate; NaN gives the minimum.
 * (TFLite converts such quotients to int32 unchecked: undefined beyond 2^31.) */
void kiln_quantize_f32_s8(const float *x, int8_t *y, int32_t count, float scale, int32_t zero_point);
void kiln_quantize_f32_u8(const float *x, uint8_t *y, int32_t count, float scale, int32_t zero_point);

/* The same rounding ties to even (ONNX QuantizeLinear); chosen by Options.Quantize(halfToEven). */
void kiln_quantize_half_even_f32_s8(const float *x, int8_t *y, int32_t count, float scale, int32_t zero_point);
void kiln_quantize_half_even_f32_u8(const float *x, uint8_t *y, int32_t count, float scale, int32_t zero_point);

/* y = scale * (float)(x - zero_point) */
void kiln_dequantize_s8_f32(const int8_t *x, float *y, int32_t count, float scale, int32_t zero_point);
void kiln_dequantize_u8_f32(const uint8_t *x, float *y, int32_t count, float scale, int32_t zero_point);

/* ---------------------------------------------------------------------- */
/* CONCATENATION: one call per input.                                      */
/* ---------------------------------------------------------------------- */

/*
 * Copies rows blocks of row_bytes bytes from the contiguous x into y, block r
 * going to y + dst_offset + r * dst_stride (all in bytes).
 */
void kiln_copy_rows(const void *x, void *y, int32_t rows, int32_t row_bytes, int32_t dst_stride, int32_t dst_offset);

/* ---------------------------------------------------------------------- */
/* ADD and MUL of 8-bit codes as onnxruntime's fused QDQ kernels compute   */
/* them (QLinearAdd, QLinearMul on x86-64; Options.QLinear): float32       */
/* arithmetic on the codes, rounded half to even, saturated. code_offset   */
/* is 128 when onnxruntime computes on uint8 codes (the stored int8 codes  */
/* plus 128, zero points in that domain), else 0.                          */
/* ---------------------------------------------------------------------- */

/*
 * y = rne(fma(x_outer, ratio_outer, fma(x_inner, ratio_inner, fixed))) with
 * fixed = z_out - fma(ratio_outer, z_outer, ratio_inner * z_inner), all
 * float32 with single roundings; x1_inner says x1 is the inner term (the
 * order onnxruntime uses when it swaps its inputs).
 */
typedef struct {
  kiln_bcast bc;
  int32_t code_offset;
  float ratio1;  /* s1 / s_out (float32) */
  float ratio2;  /* s2 / s_out */
  float fixed;
  int32_t x1_inner;
} kiln_qlinear_add_params;

void kiln_qlinear_add_s8(const kiln_qlinear_add_params *p, const int8_t *x1, const int8_t *x2, int8_t *y);

/* y = rne(float32((x1 - z1) * (x2 - z2)) * ratio + z_out), ratio = float32(s1 * s2) / s_out */
typedef struct {
  kiln_bcast bc;
  int32_t code_offset;
  int32_t input1_zero;
  int32_t input2_zero;
  int32_t output_zero;
  float ratio;
} kiln_qlinear_mul_params;

void kiln_qlinear_mul_s8(const kiln_qlinear_mul_params *p, const int8_t *x1, const int8_t *x2, int8_t *y);

#endif /* KILN_ELTWISE_H */
