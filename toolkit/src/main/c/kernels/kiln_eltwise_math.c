/*
 * Kiln kernel library: elementwise math, comparisons, logic, selection and
 * casts. See kiln_eltwise_math.h for the API.
 */
#include "kiln_eltwise_math.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln_fixedpoint.h"

/* ====================================================================== */
/* Unary                                                                  */
/* ====================================================================== */

#define KILN_UNARY(name, T, TO, expr)                    \
  void name(const T *x, TO *y, int32_t count) {          \
    int32_t i;                                           \
    for (i = 0; i < count; ++i) {                        \
      const T v = x[i];                                  \
      y[i] = (TO)(expr);                                 \
    }                                                    \
  }

/* TFLite's RoundToNearest: halves go to the even neighbour. */
static float round_half_even(float v) {
  const float floor_v = floorf(v);
  const float diff = v - floor_v;
  if (diff < 0.5f || (diff == 0.5f && fmodf(floor_v, 2.0f) == 0.0f)) return floor_v;
  return floor_v + 1.0f;
}

static float gelu_tanh(float v) {
  const float sqrt_2_over_pi = 0.7978845608028654f;
  return 0.5f * v * (1.0f + tanhf(sqrt_2_over_pi * (v + 0.044715f * v * v * v)));
}

KILN_UNARY(kiln_abs_f32, float, float, fabsf(v))
KILN_UNARY(kiln_neg_f32, float, float, -v)
KILN_UNARY(kiln_sqrt_f32, float, float, sqrtf(v))
KILN_UNARY(kiln_rsqrt_f32, float, float, 1.0f / sqrtf(v))
KILN_UNARY(kiln_square_f32, float, float, v * v)
KILN_UNARY(kiln_exp_f32, float, float, expf(v))
KILN_UNARY(kiln_log_f32, float, float, logf(v))
KILN_UNARY(kiln_sin_f32, float, float, sinf(v))
KILN_UNARY(kiln_cos_f32, float, float, cosf(v))
KILN_UNARY(kiln_ceil_f32, float, float, ceilf(v))
KILN_UNARY(kiln_floor_f32, float, float, floorf(v))
KILN_UNARY(kiln_round_f32, float, float, round_half_even(v))
KILN_UNARY(kiln_elu_f32, float, float, v < 0.0f ? expm1f(v) : v)
KILN_UNARY(kiln_hard_swish_f32, float, float, v * fminf(6.0f, fmaxf(0.0f, v + 3.0f)) / 6.0f)
KILN_UNARY(kiln_gelu_f32, float, float, 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)))
KILN_UNARY(kiln_gelu_tanh_f32, float, float, gelu_tanh(v))
/* |INT32_MIN| wraps to itself, as std::abs does on two's complement machines */
KILN_UNARY(kiln_abs_i32, int32_t, int32_t, v < 0 ? (int32_t)(0u - (uint32_t)v) : v)
KILN_UNARY(kiln_neg_i32, int32_t, int32_t, (int32_t)(0u - (uint32_t)v))
KILN_UNARY(kiln_neg_i64, int64_t, int64_t, (int64_t)(0u - (uint64_t)v))
KILN_UNARY(kiln_logical_not_b, uint8_t, uint8_t, v == 0)

void kiln_leaky_relu_f32(const float *x, float *y, int32_t count, float alpha) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = x[i] > 0.0f ? x[i] : x[i] * alpha;
}

void kiln_zero_bytes(void *y, int32_t bytes) {
  uint8_t *out = (uint8_t *)y;
  int32_t i;
  for (i = 0; i < bytes; ++i) out[i] = 0;
}

void kiln_fill_bytes(const void *value, void *y, int32_t count, int32_t element_bytes) {
  const uint8_t *v = (const uint8_t *)value;
  uint8_t *out = (uint8_t *)y;
  int32_t i;
  int32_t k;
  for (i = 0; i < count; ++i) {
    for (k = 0; k < element_bytes; ++k) out[(ptrdiff_t)i * element_bytes + k] = v[k];
  }
}

void kiln_log_softmax_f32(const float *x, float *y, int32_t rows, int32_t depth) {
  int32_t r;
  for (r = 0; r < rows; ++r) {
    const float *xr = x + (ptrdiff_t)r * depth;
    float *yr = y + (ptrdiff_t)r * depth;
    float max = xr[0];
    float sum = 0.0f;
    float log_sum;
    int32_t c;
    for (c = 1; c < depth; ++c) max = xr[c] > max ? xr[c] : max;
    for (c = 0; c < depth; ++c) sum += expf(xr[c] - max);
    log_sum = logf(sum);
    for (c = 0; c < depth; ++c) yr[c] = xr[c] - max - log_sum;
  }
}

static inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi);

/* gemmlowp SaturatingRoundingMultiplyByPOT with a run-time exponent. */
static int32_t sat_rounding_mul_pot(int32_t x, int exponent) {
  if (exponent > 0) {
    const int64_t threshold = ((int64_t)1 << (31 - exponent)) - 1;
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((int64_t)x * ((int64_t)1 << exponent));
  }
  return exponent < 0 ? kiln_rdbpot(x, -exponent) : x;
}

static int32_t saturate64(int64_t v) {
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}

static int count_leading_zeros(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

/*
 * TFLite's log_x_for_x_greater_than_or_equal_to_1<5>(x) for x in Q12 (12
 * integer bits): log(x) in Q5, through a rational approximation of log2 of
 * the mantissa (accumulated in Q6).
 */
static int32_t log_q12_to_q5(int32_t x) {
  const int32_t log_2 = 1488522236;
  const int32_t sqrt_sqrt_half = 1805811301;
  const int32_t sqrt_half = 1518500250;
  const int32_t alpha_n = 117049297;
  const int32_t alpha_d = 127690142;
  const int32_t alpha_i = 1057819769;
  const int32_t alpha_f = 638450708;
  const int32_t shifted_quarter = kiln_rdbpot(536870912, 6); /* 1/4 in Q6 */
  const int a_headroom_plus_1 = count_leading_zeros((uint32_t)x);
  const int32_t r_a_tmp = sat_rounding_mul_pot(x, a_headroom_plus_1 - 1);
  const int32_t r_a = sat_rounding_mul_pot(kiln_srdhm(r_a_tmp, sqrt_half), 1);
  const int32_t a_pow_2_adj =
      saturate64((int64_t)sat_rounding_mul_pot(12 - a_headroom_plus_1, 31 - 6) + shifted_quarter);
  const int32_t z_b = kiln_srdhm(x, sqrt_half);
  const int b_headroom = count_leading_zeros((uint32_t)z_b) - 1;
  const int32_t r_b = sat_rounding_mul_pot(x, b_headroom);
  const int32_t b_pow_2_adj = saturate64((int64_t)sat_rounding_mul_pot(12 - b_headroom, 31 - 6) - shifted_quarter);
  const int32_t r = r_a < r_b ? r_a : r_b;
  const int32_t pow_2_adj = a_pow_2_adj > b_pow_2_adj ? a_pow_2_adj : b_pow_2_adj;
  const int64_t half_sum = (int64_t)r + sqrt_sqrt_half;
  const int32_t p = (int32_t)((half_sum + (half_sum >= 0 ? 1 : -1)) / 2);
  int32_t q = (int32_t)((uint32_t)r - (uint32_t)sqrt_sqrt_half);
  int32_t common_sq;
  int32_t num;
  int32_t denom_minus_one;
  int32_t recip_denom;
  int32_t sum;
  q = (int32_t)((uint32_t)q + (uint32_t)q);
  common_sq = kiln_srdhm(q, q);
  num = (int32_t)((uint32_t)kiln_srdhm(q, r) + (uint32_t)kiln_srdhm(kiln_srdhm(q, common_sq), alpha_n));
  denom_minus_one = (int32_t)((uint32_t)kiln_srdhm(p, (int32_t)((uint32_t)alpha_i + (uint32_t)q
                                                   + (uint32_t)kiln_srdhm(alpha_d, common_sq)))
                              + (uint32_t)kiln_srdhm(alpha_f, q));
  recip_denom = kiln_one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
  sum = (int32_t)((uint32_t)kiln_srdhm(pow_2_adj, log_2) + (uint32_t)kiln_srdhm(kiln_rdbpot(num, 6), recip_denom));
  return sat_rounding_mul_pot(sum, 1); /* Q6 -> Q5 */
}

void kiln_log_softmax_s8(const kiln_log_softmax_s8_params *p, const int8_t *x, int8_t *y) {
  const int32_t depth = p->depth;
  int32_t r;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *xr = x + (ptrdiff_t)r * depth;
    int8_t *yr = y + (ptrdiff_t)r * depth;
    int32_t max_code = -128;
    int32_t sum_q12 = 0;
    int32_t log_sum_q5;
    int32_t adjusted_diff_min;
    int32_t reverse;
    int32_t c;
    for (c = 0; c < depth; ++c) max_code = xr[c] > max_code ? xr[c] : max_code;
    for (c = 0; c < depth; ++c) sum_q12 += p->exp_q12[max_code - xr[c]]; /* 0 below diff_min */
    log_sum_q5 = log_q12_to_q5(sum_q12);
    reverse = kiln_mbqm((int32_t)((uint32_t)log_sum_q5 + 0x80000000u), p->reverse_multiplier, -p->reverse_right_shift);
    adjusted_diff_min = p->diff_min - 1 > reverse ? p->diff_min - 1 : reverse;
    for (c = 0; c < depth; ++c) {
      const int32_t diff = xr[c] - max_code;
      if (diff > adjusted_diff_min) {
        const int32_t out = kiln_rdbpot(p->diff_q5[-diff] - log_sum_q5, 31 - 5 - 4) + 127;
        yr[c] = (int8_t)clamp_i32(out, -128, 127);
      } else {
        yr[c] = -128;
      }
    }
  }
}

void kiln_add_n_f32(const float *const *x, int32_t inputs, float *y, int32_t count) {
  int32_t i;
  int32_t k;
  for (i = 0; i < count; ++i) {
    float sum = x[0][i];
    for (k = 1; k < inputs; ++k) sum += x[k][i];
    y[i] = sum;
  }
}

void kiln_add_n_i32(const int32_t *const *x, int32_t inputs, int32_t *y, int32_t count) {
  int32_t i;
  int32_t k;
  for (i = 0; i < count; ++i) {
    uint32_t sum = (uint32_t)x[0][i];
    for (k = 1; k < inputs; ++k) sum += (uint32_t)x[k][i];
    y[i] = (int32_t)sum;
  }
}

/* ====================================================================== */
/* Broadcast iteration: rows of the innermost dimension (as kiln_eltwise.c) */
/* ====================================================================== */

typedef struct {
  int32_t index[KILN_BCAST_RANK - 1];
  int32_t off1;
  int32_t off2;
} bcast_iter;

static int32_t bcast_rows(const kiln_bcast *b) {
  int32_t rows = 1;
  int d;
  for (d = 0; d < KILN_BCAST_RANK - 1; ++d) rows *= b->shape[d];
  return rows;
}

static void bcast_start(bcast_iter *it) {
  int d;
  for (d = 0; d < KILN_BCAST_RANK - 1; ++d) it->index[d] = 0;
  it->off1 = 0;
  it->off2 = 0;
}

static void bcast_next(const kiln_bcast *b, bcast_iter *it) {
  int d;
  for (d = KILN_BCAST_RANK - 2; d >= 0; --d) {
    it->off1 += b->stride1[d];
    it->off2 += b->stride2[d];
    if (++it->index[d] < b->shape[d]) return;
    it->off1 -= b->stride1[d] * b->shape[d];
    it->off2 -= b->stride2[d] * b->shape[d];
    it->index[d] = 0;
  }
}

/*
 * One broadcast walk for every binary op: it hands each output row to the
 * op's row function (one short loop), which keeps the library small; the
 * indirect call costs once per row, not per element.
 */
typedef void (*binary_row)(const void *p, const void *x1, ptrdiff_t s1, const void *x2, ptrdiff_t s2, void *y,
                           int32_t n);

static void bcast_run(const kiln_bcast *bc, const void *p, const void *x1, size_t size1, const void *x2, size_t size2,
                      void *y, size_t size_out, binary_row row) {
  const int32_t n = bc->shape[KILN_BCAST_RANK - 1];
  const ptrdiff_t s1 = bc->stride1[KILN_BCAST_RANK - 1];
  const ptrdiff_t s2 = bc->stride2[KILN_BCAST_RANK - 1];
  const int32_t rows = bcast_rows(bc);
  bcast_iter it;
  int32_t r;
  bcast_start(&it);
  for (r = 0; r < rows; ++r) {
    row(p, (const uint8_t *)x1 + (ptrdiff_t)it.off1 * (ptrdiff_t)size1, s1, (const uint8_t *)x2 + (ptrdiff_t)it.off2 * (ptrdiff_t)size2,
        s2, (uint8_t *)y + (ptrdiff_t)r * n * (ptrdiff_t)size_out, n);
    bcast_next(bc, &it);
  }
}

/* One op and type: expr reads a (from x1), b (from x2) and p. */
#define KILN_BINARY(name, P, T1, T2, TO, expr)                                                               \
  static void name##_row(const void *pv, const void *x1v, ptrdiff_t s1, const void *x2v, ptrdiff_t s2,       \
                         void *yv, int32_t n) {                                                              \
    const P *p = (const P *)pv;                                                                              \
    const T1 *x1 = (const T1 *)x1v;                                                                          \
    const T2 *x2 = (const T2 *)x2v;                                                                          \
    TO *y = (TO *)yv;                                                                                        \
    int32_t i;                                                                                               \
    (void)p;                                                                                                 \
    for (i = 0; i < n; ++i) {                                                                                \
      const T1 a = x1[i * s1];                                                                               \
      const T2 b = x2[i * s2];                                                                               \
      y[i] = (TO)(expr);                                                                                     \
    }                                                                                                        \
  }                                                                                                          \
  void name(const P *p, const T1 *x1, const T2 *x2, TO *y) {                                                 \
    bcast_run(&p->bc, p, x1, sizeof(T1), x2, sizeof(T2), y, sizeof(TO), name##_row);                         \
  }

/* ---- float32 ---------------------------------------------------------- */

static inline float clamp_f32(float v, float lo, float hi) {
  v = lo > v ? lo : v;
  return hi < v ? hi : v;
}

/* std::fmod with the sign adjusted to the divisor's (TFLite FloorMod). */
static inline float floor_mod_f32(float x, float y) {
  const float trunc_mod = fmodf(x, y);
  return (trunc_mod != 0.0f) && ((y < 0.0f) != (trunc_mod < 0.0f)) ? trunc_mod + y : trunc_mod;
}

KILN_BINARY(kiln_div_f32, kiln_arith_f32_params, float, float, float, clamp_f32(a / b, p->act_min, p->act_max))
KILN_BINARY(kiln_floor_div_f32, kiln_binary_params, float, float, float, floorf(a / b))
KILN_BINARY(kiln_floor_mod_f32, kiln_binary_params, float, float, float, floor_mod_f32(a, b))
/* ONNX Mod fmod=1: C's fmodf, as onnxruntime's std::fmod on float */
KILN_BINARY(kiln_fmod_f32, kiln_binary_params, float, float, float, fmodf(a, b))
KILN_BINARY(kiln_pow_f32, kiln_binary_params, float, float, float, powf(a, b))
KILN_BINARY(kiln_squared_difference_f32, kiln_binary_params, float, float, float, (a - b) * (a - b))
/* std::max / std::min argument order: a NaN in x1 passes through */
KILN_BINARY(kiln_maximum_f32, kiln_binary_params, float, float, float, a < b ? b : a)
KILN_BINARY(kiln_minimum_f32, kiln_binary_params, float, float, float, b < a ? b : a)
KILN_BINARY(kiln_prelu_f32, kiln_binary_params, float, float, float, a >= 0.0f ? a : a * b)

/* ---- int32 / int64 ---------------------------------------------------- */

static inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

static inline int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

/* C division truncates toward zero like C++'s; zero divisors give 0, INT_MIN / -1 wraps. */
static inline int32_t div_i32(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int32_t)(0u - (uint32_t)a);
  return a / b;
}

static inline int32_t mod_i32(int32_t a, int32_t b) {
  if (b == 0 || b == -1) return 0;
  return a % b;
}

static inline int64_t mod_i64(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  return a % b;
}

/* floor(a / b) as TFLite computes it (through double, exact for int32). */
static inline int32_t floor_div_i32(int32_t a, int32_t b) {
  const int32_t q = div_i32(a, b);
  return (b != 0 && mod_i32(a, b) != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int32_t floor_mod_i32(int32_t a, int32_t b) {
  const int32_t m = mod_i32(a, b);
  return (m != 0 && ((b < 0) != (m < 0))) ? (int32_t)((uint32_t)m + (uint32_t)b) : m;
}

static inline int64_t floor_mod_i64(int64_t a, int64_t b) {
  const int64_t m = mod_i64(a, b);
  return (m != 0 && ((b < 0) != (m < 0))) ? (int64_t)((uint64_t)m + (uint64_t)b) : m;
}

/* TFLite's IntegerPow: square and multiply, wrapping; negative exponents (an error in TFLite) give 1. */
static inline int32_t pow_i32(int32_t base, int32_t exponent) {
  uint32_t result = 1u;
  uint32_t b = (uint32_t)base;
  while (exponent > 0) {
    if (exponent & 1) result *= b;
    exponent >>= 1;
    b *= b;
  }
  return (int32_t)result;
}

#define WRAP32(expr) ((int32_t)(uint32_t)(expr))
#define WRAP64(expr) ((int64_t)(uint64_t)(expr))

KILN_BINARY(kiln_add_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t,
            clamp_i32(WRAP32((uint32_t)a + (uint32_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_sub_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t,
            clamp_i32(WRAP32((uint32_t)a - (uint32_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_mul_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t,
            clamp_i32(WRAP32((uint32_t)a * (uint32_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_div_i32, kiln_arith_i32_params, int32_t, int32_t, int32_t, clamp_i32(div_i32(a, b), p->act_min, p->act_max))
KILN_BINARY(kiln_floor_div_i32, kiln_binary_params, int32_t, int32_t, int32_t, floor_div_i32(a, b))
KILN_BINARY(kiln_floor_mod_i32, kiln_binary_params, int32_t, int32_t, int32_t, floor_mod_i32(a, b))
KILN_BINARY(kiln_pow_i32, kiln_binary_params, int32_t, int32_t, int32_t, pow_i32(a, b))
KILN_BINARY(kiln_squared_difference_i32, kiln_binary_params, int32_t, int32_t, int32_t,
            WRAP32(((uint32_t)a - (uint32_t)b) * ((uint32_t)a - (uint32_t)b)))
KILN_BINARY(kiln_maximum_i32, kiln_binary_params, int32_t, int32_t, int32_t, a < b ? b : a)
KILN_BINARY(kiln_minimum_i32, kiln_binary_params, int32_t, int32_t, int32_t, b < a ? b : a)

KILN_BINARY(kiln_add_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t,
            clamp_i64(WRAP64((uint64_t)a + (uint64_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_sub_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t,
            clamp_i64(WRAP64((uint64_t)a - (uint64_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_mul_i64, kiln_arith_i64_params, int64_t, int64_t, int64_t,
            clamp_i64(WRAP64((uint64_t)a * (uint64_t)b), p->act_min, p->act_max))
KILN_BINARY(kiln_floor_mod_i64, kiln_binary_params, int64_t, int64_t, int64_t, floor_mod_i64(a, b))
KILN_BINARY(kiln_maximum_i64, kiln_binary_params, int64_t, int64_t, int64_t, a < b ? b : a)
KILN_BINARY(kiln_minimum_i64, kiln_binary_params, int64_t, int64_t, int64_t, b < a ? b : a)

KILN_BINARY(kiln_maximum_s8, kiln_binary_params, int8_t, int8_t, int8_t, a < b ? b : a)
KILN_BINARY(kiln_minimum_s8, kiln_binary_params, int8_t, int8_t, int8_t, b < a ? b : a)

KILN_BINARY(kiln_logical_and_b, kiln_binary_params, uint8_t, uint8_t, uint8_t, a != 0 && b != 0)
KILN_BINARY(kiln_logical_or_b, kiln_binary_params, uint8_t, uint8_t, uint8_t, a != 0 || b != 0)

#define KILN_COMPARISONS(suffix, T)                                                   \
  KILN_BINARY(kiln_equal_##suffix, kiln_binary_params, T, T, uint8_t, a == b)         \
  KILN_BINARY(kiln_not_equal_##suffix, kiln_binary_params, T, T, uint8_t, a != b)     \
  KILN_BINARY(kiln_greater_##suffix, kiln_binary_params, T, T, uint8_t, a > b)        \
  KILN_BINARY(kiln_greater_equal_##suffix, kiln_binary_params, T, T, uint8_t, a >= b) \
  KILN_BINARY(kiln_less_##suffix, kiln_binary_params, T, T, uint8_t, a < b)           \
  KILN_BINARY(kiln_less_equal_##suffix, kiln_binary_params, T, T, uint8_t, a <= b)

KILN_COMPARISONS(f32, float)
KILN_COMPARISONS(i32, int32_t)
KILN_COMPARISONS(i64, int64_t)
KILN_COMPARISONS(b, uint8_t)
KILN_COMPARISONS(i16, int16_t)
KILN_BINARY(kiln_maximum_i16, kiln_binary_params, int16_t, int16_t, int16_t, a < b ? b : a)
KILN_BINARY(kiln_minimum_i16, kiln_binary_params, int16_t, int16_t, int16_t, b < a ? b : a)

/* ---- ONNX integer arithmetic (INT_ARITH) ------------------------------- */

/*
 * Wrapping goes through the unsigned type UW (at least 32 bits, so a narrow operand never promotes back to
 * int): the sum, difference or product modulo 2^bits, converted back as gcc and every two's complement
 * target does. A zero divisor gives 0 where onnxruntime's CPU kernels trap or return garbage (undefined in
 * ONNX), and MIN / -1 wraps to MIN (its remainder is 0) instead of trapping on the device.
 */
#define KILN_INT_SIGNED_DIVISION(suffix, T, UW)                                   \
  static inline T int_div_##suffix(T a, T b) {                                    \
    if (b == 0) return 0;                                                         \
    if (b == -1) return (T)(0u - (UW)a);                                          \
    return (T)(a / b);                                                            \
  }                                                                               \
  static inline T int_fmod_##suffix(T a, T b) {                                   \
    return (T)((b == 0 || b == -1) ? 0 : a % b);                                  \
  }                                                                               \
  static inline T int_mod_##suffix(T a, T b) {                                    \
    const T m = int_fmod_##suffix(a, b);                                          \
    return (m != 0 && ((m < 0) != (b < 0))) ? (T)((UW)m + (UW)b) : m;             \
  }

#define KILN_INT_UNSIGNED_DIVISION(suffix, T)                                     \
  static inline T int_div_##suffix(T a, T b) { return (T)(b == 0 ? 0 : a / b); } \
  static inline T int_fmod_##suffix(T a, T b) { return (T)(b == 0 ? 0 : a % b); } \
  static inline T int_mod_##suffix(T a, T b) { return int_fmod_##suffix(a, b); }

#define KILN_INT_ARITH(suffix, T, UW, FMOD)                                                                    \
  KILN_BINARY(kiln_int_add_##suffix, kiln_binary_params, T, T, T, (UW)a + (UW)b)                               \
  KILN_BINARY(kiln_int_sub_##suffix, kiln_binary_params, T, T, T, (UW)a - (UW)b)                               \
  KILN_BINARY(kiln_int_mul_##suffix, kiln_binary_params, T, T, T, (UW)a * (UW)b)                               \
  KILN_BINARY(kiln_int_div_##suffix, kiln_binary_params, T, T, T, int_div_##suffix(a, b))                      \
  KILN_BINARY(kiln_int_mod_##suffix, kiln_binary_params, T, T, T, int_mod_##suffix(a, b))                      \
  KILN_BINARY(kiln_int_fmod_##suffix, kiln_binary_params, T, T, T, FMOD(a, b))                                  \
  KILN_BINARY(kiln_int_max_##suffix, kiln_binary_params, T, T, T, a < b ? b : a)                               \
  KILN_BINARY(kiln_int_min_##suffix, kiln_binary_params, T, T, T, b < a ? b : a)                               \
  KILN_BINARY(kiln_int_equal_##suffix, kiln_binary_params, T, T, uint8_t, a == b)                              \
  KILN_BINARY(kiln_int_less_##suffix, kiln_binary_params, T, T, uint8_t, a < b)                                \
  KILN_BINARY(kiln_int_less_equal_##suffix, kiln_binary_params, T, T, uint8_t, a <= b)                         \
  KILN_BINARY(kiln_int_greater_##suffix, kiln_binary_params, T, T, uint8_t, a > b)                             \
  KILN_BINARY(kiln_int_greater_equal_##suffix, kiln_binary_params, T, T, uint8_t, a >= b)

KILN_INT_SIGNED_DIVISION(s8, int8_t, uint32_t)
KILN_INT_UNSIGNED_DIVISION(u8, uint8_t)
KILN_INT_SIGNED_DIVISION(i16, int16_t, uint32_t)
KILN_INT_SIGNED_DIVISION(i32, int32_t, uint32_t)
KILN_INT_SIGNED_DIVISION(i64, int64_t, uint64_t)
/*
 * fmod=1 on int64 as onnxruntime computes it: std::fmod of the two converted to double (exact below 2^53 in
 * magnitude; above, the operands round first, e.g. (2^63 - 1) fmod 2 is 0). |result| < |b|, so it converts back.
 */
static inline int64_t int_fmod_double_i64(int64_t a, int64_t b) {
  return b == 0 ? 0 : (int64_t)fmod((double)a, (double)b);
}
KILN_INT_ARITH(s8, int8_t, uint32_t, int_fmod_s8)
KILN_INT_ARITH(u8, uint8_t, uint32_t, int_fmod_u8)
KILN_INT_ARITH(i16, int16_t, uint32_t, int_fmod_i16)
KILN_INT_ARITH(i32, int32_t, uint32_t, int_fmod_i32)
KILN_INT_ARITH(i64, int64_t, uint64_t, int_fmod_double_i64)

/* ---- int8, quantized -------------------------------------------------- */

/* MultiplyByQuantizedMultiplierSmallerThanOneExp: RDBPOT(SRDHM(x, q), right_shift). */
static inline int32_t rescale_down(int32_t x, int32_t multiplier, int32_t right_shift) {
  return kiln_rdbpot(kiln_srdhm(x, multiplier), right_shift);
}

/* x is an int8 or uint8 code (|x + offset| <= 255, so the shifted value fits). */
static inline int32_t compare_side1(const kiln_compare_s8_params *p, int32_t x) {
  return rescale_down((x + p->input1_offset) * 256, p->input1_multiplier, p->input1_right_shift);
}

static inline int32_t compare_side2(const kiln_compare_s8_params *p, int32_t x) {
  return rescale_down((x + p->input2_offset) * 256, p->input2_multiplier, p->input2_right_shift);
}

KILN_BINARY(kiln_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) == compare_side2(p, b))
KILN_BINARY(kiln_not_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) != compare_side2(p, b))
KILN_BINARY(kiln_greater_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) > compare_side2(p, b))
KILN_BINARY(kiln_greater_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) >= compare_side2(p, b))
KILN_BINARY(kiln_less_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) < compare_side2(p, b))
KILN_BINARY(kiln_less_equal_s8, kiln_compare_s8_params, int8_t, int8_t, uint8_t, compare_side1(p, a) <= compare_side2(p, b))
KILN_BINARY(kiln_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) == compare_side2(p, b))
KILN_BINARY(kiln_not_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) != compare_side2(p, b))
KILN_BINARY(kiln_greater_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) > compare_side2(p, b))
KILN_BINARY(kiln_greater_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) >= compare_side2(p, b))
KILN_BINARY(kiln_less_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) < compare_side2(p, b))
KILN_BINARY(kiln_less_equal_u8, kiln_compare_s8_params, uint8_t, uint8_t, uint8_t, compare_side1(p, a) <= compare_side2(p, b))

static inline int8_t squared_difference_s8(const kiln_squared_difference_s8_params *p, int8_t x1, int8_t x2) {
  const int32_t v1 = rescale_down((x1 + p->input1_offset) * 128, p->input1_multiplier, p->input1_right_shift);
  const int32_t v2 = rescale_down((x2 + p->input2_offset) * 128, p->input2_multiplier, p->input2_right_shift);
  const int32_t d = v1 - v2; /* |d| < 2^15: d * d fits */
  const int32_t out = kiln_mbqm(d * d, p->output_multiplier, p->output_shift) + p->output_offset;
  return (int8_t)clamp_i32(out, p->act_min, p->act_max);
}

KILN_BINARY(kiln_squared_difference_s8, kiln_squared_difference_s8_params, int8_t, int8_t, int8_t, squared_difference_s8(p, a, b))

/* int32 x + y and x << n with the reference's wrap-around (two's complement, as gcc and clang convert). */
static inline int32_t wrap_add_i32(int32_t x, int32_t y) { return (int32_t)((uint32_t)x + (uint32_t)y); }

/*
 * gemmlowp RoundingDivideByPOT(x, exponent) as TF 2.21's x86 build executes it for every exponent, which
 * C++ defines for 0..31 only: the mask is (1ll << exponent) - 1 cut to 32 bits with a 64-bit shift (count
 * mod 64), the value shifted by exponent mod 32 (x86's 32-bit shifts). Int8 DIV reaches exponents of 32 and
 * more for numerators near zero with a small output multiplier: a zero numerator then rounds to 1. Written
 * out so every target gives the result TFLite gives (checked against BUILTIN_REF over all code pairs).
 */
static inline int32_t div_rdbpot(int32_t x, int32_t exponent) {
  const uint32_t e = (uint32_t)exponent;
  const int32_t mask = (int32_t)(uint32_t)(((uint64_t)1 << (e & 63u)) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >= 0 ? mask >> 1 : ~(~mask >> 1)) + (x < 0 ? 1 : 0);
  const int32_t floor_shifted = x >= 0 ? x >> (e & 31u) : ~(~x >> (e & 31u));
  return wrap_add_i32(floor_shifted, remainder > threshold ? 1 : 0);
}

/* CountLeadingSignBits: redundant sign bits of x, 31 for 0 and -1. */
static inline int count_leading_sign_bits(int32_t x) {
  return count_leading_zeros(x >= 0 ? (uint32_t)x : ~(uint32_t)x) - 1;
}

/*
 * reference_ops::DivElementwise: both values negated when v2 < 0; GetReciprocal(v2, 31): 1 / v2 as a Q0.31
 * reciprocal of v2's mantissa (gemmlowp one_over_one_plus_x_for_x_in_0_1) and recip_shift = 31 - clz(v2);
 * the numerator normalized by its headroom, SRDHM with the reciprocal, then SRDHM with the output
 * multiplier and a rounding right shift by recip_shift + headroom - output_shift (see div_rdbpot). A zero
 * v2 (x2 equal to its zero point) follows the same x86 arithmetic (clz 32, a shift by 32 that shifts by 0);
 * TFLite's interpreter stops on a raw x2 code of 0 instead, which generated code cannot do: there the
 * formula runs as for any other code.
 */
static inline int8_t div_s8(const kiln_div_s8_params *p, int8_t x1, int8_t x2) {
  int32_t v1 = x1 + p->input1_offset;
  int32_t v2 = x2 + p->input2_offset;
  int clz;
  int headroom;
  int32_t reciprocal;
  int32_t quotient;
  int32_t out;
  if (v2 < 0) {
    v1 = -v1;
    v2 = -v2;
  }
  clz = count_leading_zeros((uint32_t)v2);
  reciprocal = kiln_one_over_one_plus_x_for_x_in_0_1(
      (int32_t)(((uint32_t)v2 << ((unsigned)clz & 31u)) - 0x80000000u));
  headroom = count_leading_sign_bits(v1);
  quotient = kiln_srdhm((int32_t)((int64_t)v1 * ((int64_t)1 << headroom)), reciprocal);
  out = wrap_add_i32(p->output_offset,
                     div_rdbpot(kiln_srdhm(quotient, p->output_multiplier), (31 - clz) + headroom - p->output_shift));
  return (int8_t)clamp_i32(out, p->act_min, p->act_max);
}

KILN_BINARY(kiln_div_s8, kiln_div_s8_params, int8_t, int8_t, int8_t, div_s8(p, a, b))

static inline int8_t prelu_s8(const kiln_prelu_s8_params *p, int8_t x, int8_t alpha) {
  const int32_t v = x + p->input_offset;
  const int32_t out = v >= 0 ? kiln_mbqm(v, p->multiplier_pos, p->shift_pos)
                             : kiln_mbqm(v * (alpha + p->alpha_offset), p->multiplier_neg, p->shift_neg);
  return (int8_t)clamp_i32(out + p->output_offset, -128, 127);
}

KILN_BINARY(kiln_prelu_s8, kiln_prelu_s8_params, int8_t, int8_t, int8_t, prelu_s8(p, a, b))

/* ---- int16 (16x8 scheme) --------------------------------------------- */

static inline int16_t clamp_s16(int32_t v, int32_t lo, int32_t hi) { return (int16_t)clamp_i32(v, lo, hi); }

/* (x + offset) * 2^15 stays below 2^31 for |x + offset| <= 65535 / 2 + 1: zero points are 0 here. */
static inline int16_t add_s16(const kiln_add_s16_params *p, int16_t x1, int16_t x2, int32_t sign) {
  const int32_t a = rescale_down((x1 + p->input1_offset) * 32768, p->input1_multiplier, p->input1_right_shift);
  const int32_t b = rescale_down((x2 + p->input2_offset) * 32768, p->input2_multiplier, p->input2_right_shift);
  const int32_t out = rescale_down(a + sign * b, p->output_multiplier, p->output_right_shift) + p->output_offset;
  return clamp_s16(out, p->act_min, p->act_max);
}

KILN_BINARY(kiln_add_s16, kiln_add_s16_params, int16_t, int16_t, int16_t, add_s16(p, a, b, 1))
KILN_BINARY(kiln_sub_s16, kiln_add_s16_params, int16_t, int16_t, int16_t, add_s16(p, a, b, -1))

static inline int16_t mul_s16(const kiln_mul_s16_params *p, int16_t x1, int16_t x2) {
  const int32_t prod = (x1 + p->input1_offset) * (x2 + p->input2_offset); /* <= 2^30 */
  return clamp_s16(kiln_mbqm(prod, p->output_multiplier, p->output_shift) + p->output_offset, p->act_min, p->act_max);
}

KILN_BINARY(kiln_mul_s16, kiln_mul_s16_params, int16_t, int16_t, int16_t, mul_s16(p, a, b))

/* roundf(x / scale) limited to [-65536, 65536] first (NaN to the minimum), rounding half away from zero. */
static inline int32_t quantize_round16(float x, float scale) {
  float q = x / scale;
  int32_t t;
  float frac;
  if (!(q >= -65536.0f)) q = -65536.0f;
  if (q > 65536.0f) q = 65536.0f;
  t = (int32_t)q;
  frac = q - (float)t;
  return t + (frac >= 0.5f) - (frac <= -0.5f);
}

void kiln_quantize_f32_s16(const float *x, int16_t *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = clamp_s16(quantize_round16(x[i], scale) + zero_point, -32768, 32767);
}

void kiln_dequantize_s16_f32(const int16_t *x, float *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = scale * (float)(x[i] - zero_point);
}

#define KILN_REQUANTIZE(name, TI, TO, lo, hi)                                                        \
  void name(const kiln_requantize_params *p, const TI *x, TO *y, int32_t count) {                   \
    int32_t i;                                                                                      \
    for (i = 0; i < count; ++i) {                                                                   \
      const int32_t v = kiln_mbqm(x[i] + p->input_offset, p->multiplier, p->shift) + p->output_offset; \
      y[i] = (TO)clamp_i32(v, lo, hi);                                                              \
    }                                                                                               \
  }

KILN_REQUANTIZE(kiln_requantize_s16_s8, int16_t, int8_t, -128, 127)
KILN_REQUANTIZE(kiln_requantize_s16_s16, int16_t, int16_t, -32768, 32767)

void kiln_abs_s16(const kiln_abs_s16_params *p, const int16_t *x, int16_t *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) {
    const int32_t d = x[i] - p->input_zero_point;
    const int32_t v = d < 0 ? -d : d;
    const int32_t r = (p->multiplier != 0 ? kiln_mbqm(v, p->multiplier, p->shift) : v) + p->output_zero_point;
    y[i] = p->clamp ? clamp_s16(r, -32768, 32767) : (int16_t)(uint16_t)(uint32_t)r;
  }
}

/* TFLite's lut_lookup for int16: 512 steps of 128, linear interpolation. */
static int16_t lut16_lookup(int16_t value, const kiln_lut16 *lut) {
  const int32_t index = 256 + (value >= 0 ? value / 128 : -((-value + 127) / 128)); /* floor(value / 128) */
  const int32_t offset = value - (index - 256) * 128;                                /* value & 0x7f */
  const int32_t base = lut->v[index];
  const int32_t slope = lut->v[index + 1] - base;
  const int32_t scaled = slope * offset + 64;
  const int32_t delta = scaled >= 0 ? scaled / 128 : -((-scaled + 127) / 128); /* floor(scaled / 128) */
  return (int16_t)(base + delta);
}

static int16_t softmax_s16_exp(const kiln_softmax_s16_params *p, int32_t diff) {
  const int32_t scaled = kiln_mbqm(diff, p->input_multiplier, p->input_shift) + 32767;
  return lut16_lookup((int16_t)clamp_i32(scaled, -32768, 32767), p->exp_lut);
}

void kiln_softmax_s16(const kiln_softmax_s16_params *p, const int16_t *x, int16_t *y) {
  const int32_t depth = p->depth;
  int32_t r;
  for (r = 0; r < p->rows; ++r) {
    const int16_t *xr = x + (ptrdiff_t)r * depth;
    int16_t *yr = y + (ptrdiff_t)r * depth;
    int32_t max = -32768;
    int32_t sum = 0; /* Q16.15 */
    int headroom_plus_one;
    int32_t shifted_sum;
    int16_t reciprocal;
    int right_shift;
    int32_t c;
    for (c = 0; c < depth; ++c) max = xr[c] > max ? xr[c] : max;
    for (c = 0; c < depth; ++c) sum += softmax_s16_exp(p, xr[c] - max);
    headroom_plus_one = count_leading_zeros((uint32_t)sum);
    shifted_sum = (int32_t)((((int64_t)sum * ((int64_t)1 << (headroom_plus_one - 1))) + (1 << 13)) / (1 << 14));
    reciprocal = lut16_lookup((int16_t)clamp_i32(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767),
                              p->one_over_one_plus_x_lut);
    right_shift = 31 - headroom_plus_one;
    for (c = 0; c < depth; ++c) {
      /* the exponentials are recomputed rather than kept: no scratch memory */
      const int64_t prod = (int64_t)softmax_s16_exp(p, xr[c] - max) * reciprocal + ((int64_t)1 << (right_shift - 1));
      const int32_t v = (int32_t)(prod >= 0 ? prod >> right_shift : -((-prod + ((int64_t)1 << right_shift) - 1) >> right_shift));
      yr[c] = (int16_t)clamp_i32(v, 0, 32767);
    }
  }
}

void kiln_leaky_relu_s16(const kiln_leaky_relu_s16_params *p, const int16_t *x, int16_t *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) {
    const int32_t v = x[i] + p->input_offset;
    const int32_t r = v >= 0 ? kiln_mbqm(v, p->multiplier_identity, p->shift_identity)
                             : kiln_mbqm(v, p->multiplier_alpha, p->shift_alpha);
    y[i] = clamp_s16(r + p->output_offset, -32768, 32767);
  }
}

/* ====================================================================== */
/* SELECT_V2                                                              */
/* ====================================================================== */

void kiln_select(const kiln_select_params *p, const uint8_t *cond, const void *x1, const void *x2, void *y) {
  const uint8_t *a = (const uint8_t *)x1;
  const uint8_t *b = (const uint8_t *)x2;
  uint8_t *out = (uint8_t *)y;
  const int32_t size = p->element_bytes;
  int32_t idx[KILN_BCAST_RANK] = {0, 0, 0, 0, 0, 0};
  int32_t total = 1;
  int32_t i;
  int d;
  for (d = 0; d < KILN_BCAST_RANK; ++d) total *= p->shape[d];
  for (i = 0; i < total; ++i) {
    ptrdiff_t oc = 0;
    ptrdiff_t o1 = 0;
    ptrdiff_t o2 = 0;
    int32_t k;
    for (d = 0; d < KILN_BCAST_RANK; ++d) {
      oc += (ptrdiff_t)idx[d] * p->stride_cond[d];
      o1 += (ptrdiff_t)idx[d] * p->stride1[d];
      o2 += (ptrdiff_t)idx[d] * p->stride2[d];
    }
    for (k = 0; k < size; ++k) {
      out[(ptrdiff_t)i * size + k] = cond[oc] ? a[o1 * size + k] : b[o2 * size + k];
    }
    for (d = KILN_BCAST_RANK - 1; d >= 0; --d) {
      if (++idx[d] < p->shape[d]) break;
      idx[d] = 0;
    }
  }
}

/* ====================================================================== */
/* CAST                                                                   */
/* ====================================================================== */

/* Floats go through int64 first so every in-range conversion is defined; a
 * negative float to uint8 gives 0, as the TF 2.21 x86 wheel does (C leaves it
 * undefined). */
#define KILN_DEFINE_CAST(a, ta, b, tb)                              \
  void kiln_cast_##a##_##b(const ta *x, tb *y, int32_t count) {     \
    int32_t i;                                                      \
    for (i = 0; i < count; ++i) y[i] = (tb)(x[i]);                  \
  }

#define KILN_DEFINE_CAST_FROM_FLOAT(a, ta, b, tb)                   \
  void kiln_cast_##a##_##b(const ta *x, tb *y, int32_t count) {     \
    int32_t i;                                                      \
    for (i = 0; i < count; ++i) y[i] = (tb)(int64_t)(x[i]);         \
  }

void kiln_cast_f32_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = x[i];
}
KILN_DEFINE_CAST_FROM_FLOAT(f32, float, s8, int8_t)
void kiln_cast_f32_u8(const float *x, uint8_t *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = x[i] < 0.0f ? 0 : (uint8_t)(int64_t)x[i];
}
KILN_DEFINE_CAST_FROM_FLOAT(f32, float, i16, int16_t)
KILN_DEFINE_CAST_FROM_FLOAT(f32, float, i32, int32_t)
KILN_DEFINE_CAST(f32, float, i64, int64_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, s8, int8_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, u8, uint8_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, i16, int16_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, i32, int32_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, i64, int64_t)
KILN_CAST_TYPES(KILN_DEFINE_CAST, b, uint8_t)

#define KILN_DEFINE_CAST_TO_BOOL(a, ta)                             \
  void kiln_cast_##a##_b(const ta *x, uint8_t *y, int32_t count) {  \
    int32_t i;                                                      \
    for (i = 0; i < count; ++i) y[i] = x[i] != 0;                   \
  }

KILN_DEFINE_CAST_TO_BOOL(f32, float)
KILN_DEFINE_CAST_TO_BOOL(s8, int8_t)
KILN_DEFINE_CAST_TO_BOOL(u8, uint8_t)
KILN_DEFINE_CAST_TO_BOOL(i16, int16_t)
KILN_DEFINE_CAST_TO_BOOL(i32, int32_t)
KILN_DEFINE_CAST_TO_BOOL(i64, int64_t)
