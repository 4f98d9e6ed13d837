/*
 * Kiln kernel library: elementwise math, comparisons, logic, selection and
 * casts (Eval only), with the arithmetic of TensorFlow Lite 2.21's reference
 * kernels. Every quantization constant and every int8 table is computed at
 * compile time by the Java emitters (Prepare); these functions only loop.
 *
 * Naming: kiln_<op>_<type>, the type being the element type the op reads
 * (f32, s8, i32, i64, b for bool stored as one byte 0/1). Binary ops take
 * numpy broadcasting through a kiln_bcast (kiln_eltwise.h) as the first
 * member of their parameter struct.
 *
 * Integer division and modulo by zero, which TFLite reports as an error at
 * run time, give 0 here (a device cannot stop a model half-way); INT_MIN / -1
 * wraps. Integer products and sums wrap (two's complement) instead of being
 * undefined.
 */
#ifndef KILN_ELTWISE_MATH_H
#define KILN_ELTWISE_MATH_H

#include <stdint.h>

#include "kiln_eltwise.h"

/* ---------------------------------------------------------------------- */
/* Unary float32: y[i] = f(x[i]).                                          */
/* ---------------------------------------------------------------------- */

void kiln_abs_f32(const float *x, float *y, int32_t count);
void kiln_neg_f32(const float *x, float *y, int32_t count);
void kiln_sqrt_f32(const float *x, float *y, int32_t count);
void kiln_rsqrt_f32(const float *x, float *y, int32_t count);
void kiln_square_f32(const float *x, float *y, int32_t count);
void kiln_exp_f32(const float *x, float *y, int32_t count);
void kiln_log_f32(const float *x, float *y, int32_t count);
void kiln_sin_f32(const float *x, float *y, int32_t count);
void kiln_cos_f32(const float *x, float *y, int32_t count);
void kiln_ceil_f32(const float *x, float *y, int32_t count);
void kiln_floor_f32(const float *x, float *y, int32_t count);
/* ties to even, as TFLite's RoundToNearest */
void kiln_round_f32(const float *x, float *y, int32_t count);
/* x < 0 ? expm1(x) : x */
void kiln_elu_f32(const float *x, float *y, int32_t count);
/* x * min(6, max(0, x + 3)) / 6 */
void kiln_hard_swish_f32(const float *x, float *y, int32_t count);
/* 0.5 x (1 + erf(x / sqrt 2)) */
void kiln_gelu_f32(const float *x, float *y, int32_t count);
/* 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) */
void kiln_gelu_tanh_f32(const float *x, float *y, int32_t count);
/* x > 0 ? x : alpha * x */
void kiln_leaky_relu_f32(const float *x, float *y, int32_t count, float alpha);

/* Unary integer and bool ops. */
void kiln_abs_i32(const int32_t *x, int32_t *y, int32_t count);
void kiln_neg_i32(const int32_t *x, int32_t *y, int32_t count);
void kiln_neg_i64(const int64_t *x, int64_t *y, int32_t count);
void kiln_logical_not_b(const uint8_t *x, uint8_t *y, int32_t count);

/* y = 0 over bytes (ZEROS_LIKE of any type). */
void kiln_zero_bytes(void *y, int32_t bytes);

/* FILL: y[i] = *value for i < count, element_bytes bytes each (any type). */
void kiln_fill_bytes(const void *value, void *y, int32_t count, int32_t element_bytes);

/* LOG_SOFTMAX over the last axis, float32: x - max - log(sum(exp(x - max))). */
void kiln_log_softmax_f32(const float *x, float *y, int32_t rows, int32_t depth);

/*
 * LOG_SOFTMAX int8 (TFLite's reference_integer_ops::LogSoftmax): output scale
 * 16/256, zero point 127. The per-difference constants come from the compiler:
 * exp_q12[d] = Rescale<12>(exp(diff)) and diff_q5[d] = the Q5.26 scaled
 * difference, for diff = -d (exp_q12 is 0 below diff_min).
 */
typedef struct {
  int32_t rows;
  int32_t depth;
  int32_t diff_min;
  int32_t reverse_multiplier;
  int32_t reverse_right_shift;
  const int32_t *exp_q12; /* [256] */
  const int32_t *diff_q5; /* [256] */
} kiln_log_softmax_s8_params;

void kiln_log_softmax_s8(const kiln_log_softmax_s8_params *p, const int8_t *x, int8_t *y);

/* ADD_N: y = x[0] + x[1] + ... (same shapes), summed in input order. */
void kiln_add_n_f32(const float *const *x, int32_t inputs, float *y, int32_t count);
void kiln_add_n_i32(const int32_t *const *x, int32_t inputs, int32_t *y, int32_t count);

/* ---------------------------------------------------------------------- */
/* Binary ops with broadcasting.                                           */
/* ---------------------------------------------------------------------- */

/* No parameters besides the broadcast. */
typedef struct {
  kiln_bcast bc;
} kiln_binary_params;

/* Integer arithmetic with a fused activation clamp (ADD/SUB/MUL/DIV int32, int64). */
typedef struct {
  kiln_bcast bc;
  int32_t act_min;
  int32_t act_max;
} kiln_arith_i32_params;

typedef struct {
  kiln_bcast bc;
  int64_t act_min;
  int64_t act_max;
} kiln_arith_i64_params;

/* DIV float32 with its fused activation (kiln_arith_f32_params of kiln_eltwise.h). */
void kiln_div_f32(const kiln_arith_f32_params *p, const float *x1, const float *x2, float *y);

#define KILN_DECLARE_BINARY(name, P, T1, T2, TO) void name(const P *p, const T1 *x1, const T2 *x2, TO *y);

/* float32 */
KILN_DECLARE_BINARY(kiln_floor_div_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_floor_mod_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_fmod_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_pow_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_squared_difference_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_maximum_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_minimum_f32, kiln_binary_params, float, float, float)
KILN_DECLARE_BINARY(kiln_prelu_f32, kiln_binary_params, float, float, float)

/* int32 */
KILN_DECLARE_BINARY(kiln_add_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_sub_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_mul_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_div_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_floor_div_i32, kiln_binary_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_floor_mod_i32, kiln_binary_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_pow_i32, kiln_binary_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_squared_difference_i32, kiln_binary_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_maximum_i32, kiln_binary_params, int32_t, int32_t, int32_t)
KILN_DECLARE_BINARY(kiln_minimum_i32, kiln_binary_params, int32_t, int32_t, int32_t)

/* int64 */
KILN_DECLARE_BINARY(kiln_add_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t)
KILN_DECLARE_BINARY(kiln_sub_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t)
KILN_DECLARE_BINARY(kiln_mul_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t)
KILN_DECLARE_BINARY(kiln_floor_mod_i64, kiln_binary_params, int64_t, int64_t, int64_t)
KILN_DECLARE_BINARY(kiln_maximum_i64, kiln_binary_params, int64_t, int64_t, int64_t)
KILN_DECLARE_BINARY(kiln_minimum_i64, kiln_binary_params, int64_t, int64_t, int64_t)

/* int8 MAXIMUM / MINIMUM compare raw codes (TFLite does not rescale them). */
KILN_DECLARE_BINARY(kiln_maximum_s8, kiln_binary_params, int8_t, int8_t, int8_t)
KILN_DECLARE_BINARY(kiln_minimum_s8, kiln_binary_params, int8_t, int8_t, int8_t)

/* bool */
KILN_DECLARE_BINARY(kiln_logical_and_b, kiln_binary_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_logical_or_b, kiln_binary_params, uint8_t, uint8_t, uint8_t)

/* Comparisons: bool (0/1) out. */
#define KILN_DECLARE_COMPARISONS(suffix, T)                                          \
  KILN_DECLARE_BINARY(kiln_equal_##suffix, kiln_binary_params, T, T, uint8_t)         \
  KILN_DECLARE_BINARY(kiln_not_equal_##suffix, kiln_binary_params, T, T, uint8_t)     \
  KILN_DECLARE_BINARY(kiln_greater_##suffix, kiln_binary_params, T, T, uint8_t)       \
  KILN_DECLARE_BINARY(kiln_greater_equal_##suffix, kiln_binary_params, T, T, uint8_t) \
  KILN_DECLARE_BINARY(kiln_less_##suffix, kiln_binary_params, T, T, uint8_t)          \
  KILN_DECLARE_BINARY(kiln_less_equal_##suffix, kiln_binary_params, T, T, uint8_t)

KILN_DECLARE_COMPARISONS(f32, float)
KILN_DECLARE_COMPARISONS(i32, int32_t)
KILN_DECLARE_COMPARISONS(i64, int64_t)
KILN_DECLARE_COMPARISONS(b, uint8_t)
KILN_DECLARE_COMPARISONS(i16, int16_t)
KILN_DECLARE_BINARY(kiln_maximum_i16, kiln_binary_params, int16_t, int16_t, int16_t)
KILN_DECLARE_BINARY(kiln_minimum_i16, kiln_binary_params, int16_t, int16_t, int16_t)

/*
 * ONNX integer arithmetic on unquantized tensors (INT_ARITH): Add/Sub/Mul wrap around, Div truncates toward
 * zero, mod takes the divisor's sign and fmod the dividend's; a zero divisor gives 0 (see kiln_eltwise_math.c).
 */
#define KILN_DECLARE_INT_ARITH(suffix, T)                                                   \
  KILN_DECLARE_BINARY(kiln_int_add_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_sub_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_mul_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_div_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_mod_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_fmod_##suffix, kiln_binary_params, T, T, T)                  \
  KILN_DECLARE_BINARY(kiln_int_max_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_min_##suffix, kiln_binary_params, T, T, T)                   \
  KILN_DECLARE_BINARY(kiln_int_equal_##suffix, kiln_binary_params, T, T, uint8_t)           \
  KILN_DECLARE_BINARY(kiln_int_less_##suffix, kiln_binary_params, T, T, uint8_t)            \
  KILN_DECLARE_BINARY(kiln_int_less_equal_##suffix, kiln_binary_params, T, T, uint8_t)      \
  KILN_DECLARE_BINARY(kiln_int_greater_##suffix, kiln_binary_params, T, T, uint8_t)         \
  KILN_DECLARE_BINARY(kiln_int_greater_equal_##suffix, kiln_binary_params, T, T, uint8_t)

KILN_DECLARE_INT_ARITH(s8, int8_t)
KILN_DECLARE_INT_ARITH(u8, uint8_t)
KILN_DECLARE_INT_ARITH(i16, int16_t)
KILN_DECLARE_INT_ARITH(i32, int32_t)
KILN_DECLARE_INT_ARITH(i64, int64_t)

/*
 * int8 comparisons of differently quantized inputs (TFLite's
 * ComparisonWithScaling): each side is v = RDBPOT(SRDHM((x + offset) * 2^8,
 * multiplier), right_shift), then v1 op v2.
 */
typedef struct {
  kiln_bcast bc;
  int32_t input1_offset; /* -z1 */
  int32_t input1_multiplier;
  int32_t input1_right_shift;
  int32_t input2_offset; /* -z2 */
  int32_t input2_multiplier;
  int32_t input2_right_shift;
} kiln_compare_s8_params;

KILN_DECLARE_BINARY(kiln_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_not_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_greater_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_greater_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_less_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_less_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t)

/* The same for uint8 inputs. */
KILN_DECLARE_BINARY(kiln_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_not_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_greater_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_greater_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_less_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)
KILN_DECLARE_BINARY(kiln_less_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t)

/*
 * SQUARED_DIFFERENCE int8: each side scaled by 2^7 and rescaled as in the
 * comparisons, then y = clamp(MBQM(d * d, output) + z_out), d = v1 - v2.
 */
typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;
  int32_t input1_multiplier;
  int32_t input1_right_shift;
  int32_t input2_offset;
  int32_t input2_multiplier;
  int32_t input2_right_shift;
  int32_t output_multiplier;
  int32_t output_shift;  /* > 0: left */
  int32_t output_offset; /* +z_out */
  int32_t act_min;
  int32_t act_max;
} kiln_squared_difference_s8_params;

KILN_DECLARE_BINARY(kiln_squared_difference_s8, kiln_squared_difference_s8_params, int8_t, int8_t, int8_t)

/*
 * DIV int8 (TF 2.21 reference_ops::DivElementwise): v1 = x1 - z1 over v2 = x2 - z2 through a fixed-point
 * reciprocal of v2, y = clamp(z_out + rescaled quotient); output_multiplier/shift from s1 / (s2 * s_out)
 * (float32, then QuantizeMultiplier). See div_s8 in kiln_eltwise_math.c for the shifts TFLite leaves undefined.
 */
typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;  /* -z1 */
  int32_t input2_offset;  /* -z2 */
  int32_t output_multiplier;
  int32_t output_shift;   /* > 0: left */
  int32_t output_offset;  /* +z_out */
  int32_t act_min;
  int32_t act_max;
} kiln_div_s8_params;

KILN_DECLARE_BINARY(kiln_div_s8, kiln_div_s8_params, int8_t, int8_t, int8_t)

/*
 * PRELU int8: v = x - z_in; y = clamp(z_out + (v >= 0 ? MBQM(v, m1) :
 * MBQM(v * (alpha - z_alpha), m2))).
 */
typedef struct {
  kiln_bcast bc;
  int32_t input_offset; /* -z_in */
  int32_t alpha_offset; /* -z_alpha */
  int32_t output_offset;
  int32_t multiplier_pos;
  int32_t shift_pos;    /* > 0: left */
  int32_t multiplier_neg;
  int32_t shift_neg;
} kiln_prelu_s8_params;

KILN_DECLARE_BINARY(kiln_prelu_s8, kiln_prelu_s8_params, int8_t, int8_t, int8_t)

/* ---------------------------------------------------------------------- */
/* SELECT_V2: y = cond ? x1 : x2 with three-way broadcasting (rank 6, each  */
/* input with its own element steps, 0 where broadcast), any element size.  */
/* ---------------------------------------------------------------------- */

typedef struct {
  int32_t shape[KILN_BCAST_RANK];
  int32_t stride_cond[KILN_BCAST_RANK];
  int32_t stride1[KILN_BCAST_RANK];
  int32_t stride2[KILN_BCAST_RANK];
  int32_t element_bytes;
} kiln_select_params;

void kiln_select(const kiln_select_params *p, const uint8_t *cond, const void *x1, const void *x2, void *y);

/* ---------------------------------------------------------------------- */
/* CAST between float32, int8, uint8, int16, int32, int64 and bool:        */
/* C conversions (float to integer toward zero; to bool: x != 0).          */
/* ---------------------------------------------------------------------- */

#define KILN_CAST_TYPES(X, from_name, from_type) \
  X(from_name, from_type, f32, float)            \
  X(from_name, from_type, s8, int8_t)            \
  X(from_name, from_type, u8, uint8_t)           \
  X(from_name, from_type, i16, int16_t)          \
  X(from_name, from_type, i32, int32_t)          \
  X(from_name, from_type, i64, int64_t)

#define KILN_DECLARE_CAST(a, ta, b, tb) void kiln_cast_##a##_##b(const ta *x, tb *y, int32_t count);
KILN_CAST_TYPES(KILN_DECLARE_CAST, f32, float)
KILN_CAST_TYPES(KILN_DECLARE_CAST, s8, int8_t)
KILN_CAST_TYPES(KILN_DECLARE_CAST, u8, uint8_t)
KILN_CAST_TYPES(KILN_DECLARE_CAST, i16, int16_t)
KILN_CAST_TYPES(KILN_DECLARE_CAST, i32, int32_t)
KILN_CAST_TYPES(KILN_DECLARE_CAST, i64, int64_t)
KILN_CAST_TYPES(KILN_DECLARE_CAST, b, uint8_t)
#undef KILN_DECLARE_CAST

/* to bool: y = x != 0 */
void kiln_cast_f32_b(const float *x, uint8_t *y, int32_t count);
void kiln_cast_s8_b(const int8_t *x, uint8_t *y, int32_t count);
void kiln_cast_u8_b(const uint8_t *x, uint8_t *y, int32_t count);
void kiln_cast_i16_b(const int16_t *x, uint8_t *y, int32_t count);
void kiln_cast_i32_b(const int32_t *x, uint8_t *y, int32_t count);
void kiln_cast_i64_b(const int64_t *x, uint8_t *y, int32_t count);

/* ---------------------------------------------------------------------- */
/* The 16x8 scheme: int16 activations with zero point 0.                  */
/* ---------------------------------------------------------------------- */

/*
 * ADD / SUB int16 with general scales (pot_scale_int16 false): TFLite's int8
 * arithmetic with a left shift of 15 instead of 20 and the int16 range.
 */
typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;
  int32_t input1_multiplier;
  int32_t input1_right_shift;
  int32_t input2_offset;
  int32_t input2_multiplier;
  int32_t input2_right_shift;
  int32_t output_multiplier;
  int32_t output_right_shift;
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;
} kiln_add_s16_params;

KILN_DECLARE_BINARY(kiln_add_s16, kiln_add_s16_params, int16_t, int16_t, int16_t)
KILN_DECLARE_BINARY(kiln_sub_s16, kiln_add_s16_params, int16_t, int16_t, int16_t)

/* MUL int16: y = clamp(MBQM((x1 - z1) * (x2 - z2)) + z_out). */
typedef struct {
  kiln_bcast bc;
  int32_t input1_offset;
  int32_t input2_offset;
  int32_t output_multiplier;
  int32_t output_shift; /* > 0: left */
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;
} kiln_mul_s16_params;

KILN_DECLARE_BINARY(kiln_mul_s16, kiln_mul_s16_params, int16_t, int16_t, int16_t)

/* QUANTIZE float32 -> int16: clamp(round_half_away(x / scale) + zero_point). */
void kiln_quantize_f32_s16(const float *x, int16_t *y, int32_t count, float scale, int32_t zero_point);

/* DEQUANTIZE int16 -> float32: scale * (float)(x - zero_point). */
void kiln_dequantize_s16_f32(const int16_t *x, float *y, int32_t count, float scale, int32_t zero_point);

/* Requantization int16 -> int8 / int16 -> int16: clamp(MBQM(x - z_in) + z_out). */
typedef struct {
  int32_t input_offset; /* -z_in */
  int32_t multiplier;
  int32_t shift;        /* > 0: left */
  int32_t output_offset;
} kiln_requantize_params;

void kiln_requantize_s16_s8(const kiln_requantize_params *p, const int16_t *x, int8_t *y, int32_t count);
void kiln_requantize_s16_s16(const kiln_requantize_params *p, const int16_t *x, int16_t *y, int32_t count);

/*
 * ABS int16: quantized, y = clamp(MBQM(|x - z_in|) + z_out) (no rescale when
 * the scales are equal: multiplier 0); unquantized (clamp 0), |x| wrapping.
 */
typedef struct {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier; /* 0: no rescale */
  int32_t shift;
  int32_t clamp;
} kiln_abs_s16_params;

void kiln_abs_s16(const kiln_abs_s16_params *p, const int16_t *x, int16_t *y, int32_t count);

/*
 * SOFTMAX int16 (TFLite's SoftmaxInt16): output scale 1/32768. Both tables
 * have 513 entries made at compile time: exp on [-10, 0] and 1 / (1 + x) on
 * [0, 1], each read with linear interpolation.
 */
typedef struct {
  int16_t v[513];
} kiln_lut16;

typedef struct {
  int32_t rows;
  int32_t depth;
  int32_t input_multiplier;
  int32_t input_shift; /* > 0: left */
  const kiln_lut16 *exp_lut;
  const kiln_lut16 *one_over_one_plus_x_lut;
} kiln_softmax_s16_params;

void kiln_softmax_s16(const kiln_softmax_s16_params *p, const int16_t *x, int16_t *y);

/* LEAKY_RELU int16: v = x - z_in; y = clamp(z_out + MBQM(v, v >= 0 ? identity : alpha)). */
typedef struct {
  int32_t input_offset;
  int32_t output_offset;
  int32_t multiplier_identity;
  int32_t shift_identity;
  int32_t multiplier_alpha;
  int32_t shift_alpha;
} kiln_leaky_relu_s16_params;

void kiln_leaky_relu_s16(const kiln_leaky_relu_s16_params *p, const int16_t *x, int16_t *y, int32_t count);

#endif /* KILN_ELTWISE_MATH_H */
