/*
 * Kiln kernel library: per-element and per-row ops. See kiln_eltwise.h for
 * the API and tflite-numerics.md sections 1 and 5 to 8 for the arithmetic.
 */
#include "kiln_eltwise.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln_fixedpoint.h"
#include "kiln_nn_util.h"

/* ====================================================================== */
/* Helpers                                                                */
/* ====================================================================== */

/* floor(x / 2^n) for 0 <= n <= 63 without shifting a negative value right
 * (implementation-defined in C99); GCC and Clang emit one arithmetic shift. */
static inline int64_t floor_shift64(int64_t x, int n) {
  return x >= 0 ? x >> n : ~(~x >> n);
}

/* min(max(v, lo), hi), in TFLite's order (hi wins should lo > hi). */
static inline int8_t clamp_s8(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return (int8_t)(v > hi ? hi : v);
}

/*
 * A requantization RDBPOT(SRDHM(x, multiplier), right_shift): TFLite's
 * MultiplyByQuantizedMultiplier (double rounding, TF 2.21) after any left
 * shift, done as one rounding shift of the 64-bit product P = x * multiplier.
 *
 * SRDHM is t = floor((P + 2^30) / 2^31) (ties up). RDBPOT by R >= 1 is
 * floor((t + 2^(R-1) - [t < 0]) / 2^R) (ties away from zero). Because
 * floor(floor(A / m) + c) / n) == floor((A + c*m) / (m*n)) for integer c, the
 * pair is floor((P + 2^30 + 2^(30+R) - [t < 0] * 2^31) / 2^(31+R)), where
 * t < 0 exactly when P < -2^30. With R = 0 only the SRDHM term remains.
 * Exact for every x, multiplier except x == multiplier == INT32_MIN (the SRDHM
 * saturation case), which no caller produces: |x| < 2^31 - 1 here.
 * |P| < 2^62 needs |x| < 2^31, always true.
 */
typedef struct {
  int64_t multiplier;
  int64_t round_if_nonneg; /* added when t >= 0 */
  int64_t round_if_neg;    /* added when t < 0 */
  int shift;               /* 31 + R */
} requant;

static requant requant_make(int32_t multiplier, int32_t right_shift) {
  requant r;
  r.multiplier = multiplier;
  r.shift = 31 + right_shift;
  r.round_if_nonneg = (int64_t)1 << 30;
  r.round_if_neg = r.round_if_nonneg;
  if (right_shift > 0) {
    r.round_if_nonneg += (int64_t)1 << (30 + right_shift);
    r.round_if_neg = r.round_if_nonneg - ((int64_t)1 << 31);
  }
  return r;
}

static inline int32_t requant_apply(const requant *r, int32_t x) {
  const int64_t prod = (int64_t)x * r->multiplier;
  const int64_t round = prod < -((int64_t)1 << 30) ? r->round_if_neg : r->round_if_nonneg;
  return (int32_t)floor_shift64(prod + round, r->shift);
}

/* ====================================================================== */
/* Broadcast iteration: rows of the innermost dimension.                  */
/* ====================================================================== */

typedef struct {
  int32_t index[KILN_BCAST_RANK - 1];
  int32_t off1; /* element offset of the row's start in input 1 */
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

/* Moves to the next row (odometer over the outer five dimensions). */
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

/* ====================================================================== */
/* ADD / SUB int8                                                         */
/* Per element: a = requant1((x1 - z1) * 2^20), b = requant2((x2 - z2) *  */
/* 2^20), y = clamp(requant_out(a + b) + z_out) for ADD, a - b for SUB.   */
/* ====================================================================== */

/*
 * ADD/SUB's three requantizations. On a 32-bit target they run in kiln_requant32's 32-bit form
 * (kiln_nn_util.h: one SMLAL instead of a 64-bit product, compare and shift), which needs
 * |x| * 2^(max(shift, 0) + 1) < 2^31: the inputs rescale |(x + offset) * 2^20| < 2^28 with
 * multipliers <= 1/2 (shift <= 0), the output |a + b| < 2^28 with a multiplier < 1 (shift <= 1;
 * the compiler refuses a larger one, as TFLite does). A 64-bit host keeps requant_apply's one
 * 64-bit product, as cheap there.
 */
#if UINTPTR_MAX > 0xffffffffu
typedef requant add_requant;

static add_requant add_requant_make(int32_t multiplier, int32_t right_shift) {
  return requant_make(multiplier, right_shift);
}

static inline int32_t add_requant_apply(const add_requant *r, int32_t x) { return requant_apply(r, x); }

/* floor((P + c) / 2^s) + zo = floor((P + c + zo 2^s) / 2^s): |zo 2^s| < 2^62 as s = 31 + R <= 54 */
static void add_requant_fold(add_requant *r, int32_t zo) {
  r->round_if_nonneg += (int64_t)zo * ((int64_t)1 << r->shift);
  r->round_if_neg += (int64_t)zo * ((int64_t)1 << r->shift);
}
#else
typedef kiln_requant32 add_requant;

static add_requant add_requant_make(int32_t multiplier, int32_t right_shift) {
  return kiln_requant32_of(multiplier, -right_shift);
}

static inline int32_t add_requant_apply(const add_requant *r, int32_t x) { return kiln_requant32_apply(x, r); }

/* floor(h / 2^R) + zo = floor((h + zo 2^R) / 2^R), zo 2^R added to the high word's start: |zo 2^R| <= 2^30 */
static void add_requant_fold(add_requant *r, int32_t zo) { r->round += zo * ((int32_t)1 << r->right); }
#endif

typedef struct {
  int32_t input1_offset;
  int32_t input2_offset;
  add_requant in1;
  add_requant in2;
  add_requant out;
  int32_t input2_sign; /* +1 for ADD, -1 for SUB (exact: |scaled input| < 2^27) */
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;
} add_s8_consts;

/* (x + offset) * 2^20: |x + offset| <= 255, so the product stays below 2^28. */
static inline int32_t add_s8_scale1(const add_s8_consts *c, int8_t x) {
  return add_requant_apply(&c->in1, (x + c->input1_offset) * ((int32_t)1 << KILN_ADD_LEFT_SHIFT));
}

static inline int32_t add_s8_scale2(const add_s8_consts *c, int8_t x) {
  return c->input2_sign * add_requant_apply(&c->in2, (x + c->input2_offset) * ((int32_t)1 << KILN_ADD_LEFT_SHIFT));
}

/* a, b: the scaled inputs (|.| < 2^27 each, as both multipliers are <= 1/2). */
static inline int8_t add_s8_out(const add_s8_consts *c, int32_t a, int32_t b) {
  return clamp_s8(add_requant_apply(&c->out, a + b) + c->output_offset, c->act_min, c->act_max);
}

static void add_s8_row(const add_s8_consts *c, const int8_t *x1, int32_t s1, const int8_t *x2, int32_t s2,
                       int8_t *y, int32_t n) {
  int32_t i;
  if (s1 == 1 && s2 == 1) {
    for (i = 0; i < n; ++i) y[i] = add_s8_out(c, add_s8_scale1(c, x1[i]), add_s8_scale2(c, x2[i]));
  } else if (s1 == 1 && s2 == 0) {
    const int32_t b = add_s8_scale2(c, x2[0]);
    for (i = 0; i < n; ++i) y[i] = add_s8_out(c, add_s8_scale1(c, x1[i]), b);
  } else if (s1 == 0 && s2 == 1) {
    const int32_t a = add_s8_scale1(c, x1[0]);
    for (i = 0; i < n; ++i) y[i] = add_s8_out(c, a, add_s8_scale2(c, x2[i]));
  } else {
    for (i = 0; i < n; ++i) {
      y[i] = add_s8_out(c, add_s8_scale1(c, x1[(ptrdiff_t)i * s1]), add_s8_scale2(c, x2[(ptrdiff_t)i * s2]));
    }
  }
}

/*
 * The table path: a code's rescaled input is base + code * step + residual[code + 128], the
 * compile-time split of kiln_add_s8_params (exact; |code * step| < 2^27 as the multipliers are
 * <= 1/2; for SUB the compiler hands input 2's split negated, so both paths add). The 256 values
 * of each input are expanded once per call into int32 tables on the stack (2 KiB; ADD runs beside
 * no other kernel's frame), so each element costs two loads, as with constant int32 tables, and
 * the constants stay a quarter of their size.
 */
static void add_s8_expand(int32_t base, int32_t step, const int8_t *residual, int32_t *table) {
  int32_t line = base - 128 * step; /* the line at code -128; |128 * step| < 2^28 */
  int32_t j;
  for (j = 0; j < 256; ++j) {
    table[j] = line + residual[j];
    line += step;
  }
}

/* out: c->out with the output zero point folded in (add_requant_fold; the compiler keeps R <= 23). */
static void add_s8_row_table(const add_s8_consts *c, const add_requant *out, const int32_t *t1, const int32_t *t2,
                             const int8_t *x1, int32_t s1, const int8_t *x2, int32_t s2, int8_t *y, int32_t n) {
  int32_t i;
  t1 += 128;
  t2 += 128;
  if (s1 == 1 && s2 == 1) {
    for (i = 0; i < n; ++i) y[i] = clamp_s8(add_requant_apply(out, t1[x1[i]] + t2[x2[i]]), c->act_min, c->act_max);
  } else {
    for (i = 0; i < n; ++i) {
      y[i] = clamp_s8(add_requant_apply(out, t1[x1[(ptrdiff_t)i * s1]] + t2[x2[(ptrdiff_t)i * s2]]), c->act_min,
                      c->act_max);
    }
  }
}

static void add_sub_s8(const kiln_add_s8_params *p, int32_t input2_sign, const int8_t *x1, const int8_t *x2,
                       int8_t *y) {
  const kiln_bcast *b = &p->bc;
  const int32_t n = b->shape[KILN_BCAST_RANK - 1];
  const int32_t rows = bcast_rows(b);
  const int tables = p->input1_residual != NULL && p->input2_residual != NULL;
  int32_t t1[256], t2[256];
  add_requant out;
  add_s8_consts c;
  bcast_iter it;
  int32_t r;
  c.input1_offset = p->input1_offset;
  c.input2_offset = p->input2_offset;
  c.in1 = add_requant_make(p->input1_multiplier, p->input1_right_shift);
  c.in2 = add_requant_make(p->input2_multiplier, p->input2_right_shift);
  c.out = add_requant_make(p->output_multiplier, p->output_right_shift);
  c.input2_sign = input2_sign;
  c.output_offset = p->output_offset;
  c.act_min = p->act_min;
  c.act_max = p->act_max;
  out = c.out;
  if (tables) {
    add_s8_expand(p->input1_base, p->input1_step, p->input1_residual, t1);
    add_s8_expand(p->input2_base, p->input2_step, p->input2_residual, t2);
    add_requant_fold(&out, c.output_offset);
  }
  bcast_start(&it);
  for (r = 0; r < rows; ++r) {
    if (tables) {
      add_s8_row_table(&c, &out, t1, t2, x1 + it.off1, b->stride1[KILN_BCAST_RANK - 1], x2 + it.off2,
                       b->stride2[KILN_BCAST_RANK - 1], y + (ptrdiff_t)r * n, n);
    } else {
      add_s8_row(&c, x1 + it.off1, b->stride1[KILN_BCAST_RANK - 1], x2 + it.off2, b->stride2[KILN_BCAST_RANK - 1],
                 y + (ptrdiff_t)r * n, n);
    }
    bcast_next(b, &it);
  }
}

void kiln_add_s8(const kiln_add_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y) {
  add_sub_s8(p, 1, x1, x2, y);
}

void kiln_sub_s8(const kiln_add_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y) {
  add_sub_s8(p, -1, x1, x2, y);
}

/* ====================================================================== */
/* MUL int8                                                               */
/* ====================================================================== */

typedef struct {
  int32_t input1_offset;
  int32_t input2_offset;
  int32_t left_scale; /* 2^left_shift; the compiler checked |product * 2^left_shift| < 2^31 */
  requant out;
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;
} mul_s8_consts;

static inline int8_t mul_s8_one(const mul_s8_consts *c, int8_t a, int8_t b) {
  const int32_t prod = (a + c->input1_offset) * (b + c->input2_offset); /* |.| <= 2^16 */
  return clamp_s8(requant_apply(&c->out, prod * c->left_scale) + c->output_offset, c->act_min, c->act_max);
}

static void mul_s8_row(const mul_s8_consts *c, const int8_t *x1, int32_t s1, const int8_t *x2, int32_t s2,
                       int8_t *y, int32_t n) {
  int32_t i;
  if (s1 == 1 && s2 == 1) {
    for (i = 0; i < n; ++i) y[i] = mul_s8_one(c, x1[i], x2[i]);
  } else {
    for (i = 0; i < n; ++i) y[i] = mul_s8_one(c, x1[(ptrdiff_t)i * s1], x2[(ptrdiff_t)i * s2]);
  }
}

void kiln_mul_s8(const kiln_mul_s8_params *p, const int8_t *x1, const int8_t *x2, int8_t *y) {
  const kiln_bcast *b = &p->bc;
  const int32_t n = b->shape[KILN_BCAST_RANK - 1];
  const int32_t rows = bcast_rows(b);
  mul_s8_consts c;
  bcast_iter it;
  int32_t r;
  c.input1_offset = p->input1_offset;
  c.input2_offset = p->input2_offset;
  c.left_scale = (int32_t)1 << p->output_left_shift;
  c.out = requant_make(p->output_multiplier, p->output_right_shift);
  c.output_offset = p->output_offset;
  c.act_min = p->act_min;
  c.act_max = p->act_max;
  bcast_start(&it);
  for (r = 0; r < rows; ++r) {
    mul_s8_row(&c, x1 + it.off1, b->stride1[KILN_BCAST_RANK - 1], x2 + it.off2, b->stride2[KILN_BCAST_RANK - 1],
               y + (ptrdiff_t)r * n, n);
    bcast_next(b, &it);
  }
}

/* ====================================================================== */
/* ADD / SUB / MUL float32                                                */
/* ====================================================================== */

/* min(max(v, lo), hi) as TFLite's ActivationFunctionWithMinMax; NaN passes.
 * With lo, hi not known at compile time GCC emits maxss/minss, no branches. */
static inline float clamp_f32(float v, float lo, float hi) {
  v = lo > v ? lo : v;
  return hi < v ? hi : v;
}

/* One row loop per operator: the same-shape case is a unit-stride loop. */
#define KILN_ARITH_F32(name, expr)                                                                         \
  static void name##_row(const float *x1, int32_t s1, const float *x2, int32_t s2, float *y, int32_t n,      \
                         float lo, float hi) {                                                             \
    int32_t i;                                                                                             \
    if (s1 == 1 && s2 == 1) {                                                                              \
      for (i = 0; i < n; ++i) {                                                                            \
        const float a = x1[i];                                                                             \
        const float b = x2[i];                                                                             \
        y[i] = clamp_f32(expr, lo, hi);                                                                    \
      }                                                                                                    \
    } else {                                                                                               \
      for (i = 0; i < n; ++i) {                                                                            \
        const float a = x1[(ptrdiff_t)i * s1];                                                             \
        const float b = x2[(ptrdiff_t)i * s2];                                                             \
        y[i] = clamp_f32(expr, lo, hi);                                                                    \
      }                                                                                                    \
    }                                                                                                      \
  }                                                                                                        \
  void kiln_##name(const kiln_arith_f32_params *p, const float *x1, const float *x2, float *y) {            \
    const kiln_bcast *b = &p->bc;                                                                          \
    const int32_t n = b->shape[KILN_BCAST_RANK - 1];                                                       \
    const int32_t rows = bcast_rows(b);                                                                    \
    bcast_iter it;                                                                                         \
    int32_t r;                                                                                             \
    bcast_start(&it);                                                                                      \
    for (r = 0; r < rows; ++r) {                                                                           \
      name##_row(x1 + it.off1, b->stride1[KILN_BCAST_RANK - 1], x2 + it.off2,                              \
                 b->stride2[KILN_BCAST_RANK - 1], y + (ptrdiff_t)r * n, n, p->act_min, p->act_max);        \
      bcast_next(b, &it);                                                                                  \
    }                                                                                                      \
  }

KILN_ARITH_F32(add_f32, a + b)
KILN_ARITH_F32(sub_f32, a - b)
KILN_ARITH_F32(mul_f32, a * b)

#undef KILN_ARITH_F32

/* ====================================================================== */
/* SOFTMAX                                                                */
/* ====================================================================== */

/* gemmlowp SaturatingRoundingMultiplyByPOT<n> for 1 <= n <= 30. */
static inline int32_t sat_shl(int32_t x, int n) {
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - n)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((int64_t)x * ((int64_t)1 << n));
}

/* The exponentials themselves are computed at compile time (SoftmaxExpTable.java). */

int32_t kiln_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  /* RoundingHalfSum(a, One): (1 + a) / 2 in Q0 */
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t constant_48_over_17 = 1515870810;      /* Q2 */
  const int32_t constant_neg_32_over_17 = -1010580540; /* Q2 */
  int32_t x = constant_48_over_17 + kiln_srdhm(half_denominator, constant_neg_32_over_17);
  int i;
  for (i = 0; i < 3; ++i) { /* Newton-Raphson in Q2 */
    const int32_t one_minus_half_denominator_times_x = ((int32_t)1 << 29) - kiln_srdhm(half_denominator, x);
    x = x + sat_shl(kiln_srdhm(x, one_minus_half_denominator_times_x), 2);
  }
  return sat_shl(x, 1); /* x / 2 in Q1, rescaled to Q0 */
}

static int count_leading_zeros32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

#if KILN_SOFTMAX_EXP_RUNTIME_USED
/* Computed exponentials serve small ops only (a classifier's last layer), where bytes count more
 * than calls: one out-of-line SRDHM instead of a dozen inlined 64-bit sequences (M4 -O2: the run-time
 * form adds 342 B to kiln_eltwise.o instead of 656). */
#if defined(__GNUC__)
#define KILN_SOFTMAX_SMALL __attribute__((noinline))
#else
#define KILN_SOFTMAX_SMALL
#endif
static KILN_SOFTMAX_SMALL int32_t exp_srdhm(int32_t a, int32_t b) { return kiln_srdhm(a, b); }

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: a Taylor polynomial around -1/8. */
static int32_t exp_on_quarter_interval(int32_t a) {
  const int32_t x = a + ((int32_t)1 << 28);
  const int32_t x2 = exp_srdhm(x, x);
  const int32_t x3 = exp_srdhm(x2, x);
  const int32_t x4 = exp_srdhm(x2, x2);
  const int32_t poly = kiln_rdbpot(exp_srdhm(kiln_rdbpot(x4, 2) + x3, 715827883) + x2, 1); /* 1/3 */
  return 1895147668 + exp_srdhm(1895147668, x + poly);                                        /* exp(-1/8) */
}

int32_t kiln_softmax_exp_q5(int32_t a) {
  /* exp(-2^k) for k = -2 .. 4, Q0: one factor per whole quarter bit of -a */
  static const int32_t exp_of_minus_powers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                                 39332535,   720401,     242};
  const int32_t quarter = (int32_t)1 << 24; /* 1/4 in Q5.26 */
  const int32_t remainder = (a & (quarter - 1)) - quarter; /* in [-1/4, 0) */
  const uint32_t whole_quarters = (uint32_t)(remainder - a);
  /* remainder * 2^5 stays within [-2^29, 0): gemmlowp's saturating shift never saturates here */
  int32_t result = exp_on_quarter_interval(remainder * 32);
  int k;
  for (k = 0; k < 7; ++k) {
    if (whole_quarters & ((uint32_t)1 << (24 + k))) result = exp_srdhm(result, exp_of_minus_powers[k]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* The run-time form of softmax_exp (diff >= diff_min): the value the compiler's table would hold. */
static KILN_SOFTMAX_SMALL int32_t softmax_exp_computed(const kiln_softmax_s8_params *p, int32_t diff) {
  return kiln_softmax_exp_q5(exp_srdhm((int32_t)((uint32_t)diff << p->input_shift), p->exp.input_multiplier));
}
#endif

/*
 * exp(beta * s_in * diff) in Q0 for a code difference diff in [-255, 0] to the
 * row maximum, 0 below diff_min: the compiler's table or, for a small op, computed.
 */
static inline int32_t softmax_exp(const kiln_softmax_s8_params *p, int32_t diff) {
  if (diff < p->diff_min) return 0;
#if KILN_SOFTMAX_EXP_RUNTIME_USED
  if (p->input_shift >= 0) return softmax_exp_computed(p, diff);
#endif
  return p->exp.table[-diff];
}

/*
 * One row's maximum code and the reciprocal of its sum of exponentials (GetReciprocal with 12 integer bits:
 * sum = 2^(12 - headroom) * (1 + s), s in [0, 1)); returns 12 - headroom, the reciprocal's bits over one.
 */
static int softmax_row_reciprocal(const kiln_softmax_s8_params *p, const int8_t *xr, int32_t *max_code,
                                  int32_t *reciprocal) {
  int32_t sum = 0; /* Q12; each term <= 2^19 and depth < 4096, so no overflow */
  int headroom;
  int32_t c;
  *max_code = -128;
  for (c = 0; c < p->depth; ++c) {
    if (xr[c] > *max_code) *max_code = xr[c];
  }
  for (c = 0; c < p->depth; ++c) {
    /* Rescale Q0 -> Q12; cut elements add 0 */
    sum += kiln_rdbpot(softmax_exp(p, xr[c] - *max_code), 12);
  }
  headroom = count_leading_zeros32((uint32_t)sum);
  *reciprocal = kiln_one_over_one_plus_x_for_x_in_0_1((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
  return 12 - headroom;
}

/*
 * Softmax of int8 rows to out_bits-bit codes (8 or 16; the output zero point is the code minimum):
 * y = reciprocal * e >> out_shift, written to y8 or, when that is NULL, to y16.
 */
static void softmax_s8_to(const kiln_softmax_s8_params *p, const int8_t *x, int out_bits, int8_t *y8, int16_t *y16) {
  const int32_t depth = p->depth;
  const int32_t lo = -((int32_t)1 << (out_bits - 1));
  const int32_t hi = ((int32_t)1 << (out_bits - 1)) - 1;
  int32_t r;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *xr = x + (ptrdiff_t)r * depth;
    const ptrdiff_t row = (ptrdiff_t)r * depth;
    int32_t max_code;
    int32_t reciprocal;
    /* for 16 bits, 12 - headroom >= 0 (the row maximum alone adds 1.0), so the shift stays in 15..27 */
    const int out_shift = softmax_row_reciprocal(p, xr, &max_code, &reciprocal) + 31 - out_bits;
    int32_t c;
    if (out_shift > 31) {
      /* (8 bits only) The row's sum of exponentials is >= 512, so every probability is below
       * 1/512 and rounds to code -128. TFLite's reference kernel aborts here
       * (gemmlowp asserts a shift <= 31); this is the limit of its arithmetic. */
      for (c = 0; c < depth; ++c) y8[row + c] = -128;
      continue;
    }
    for (c = 0; c < depth; ++c) {
      /* cut elements have e = 0 and come out as the code minimum, as in TFLite */
      const int32_t e = softmax_exp(p, xr[c] - max_code);
      const int32_t v = kiln_rdbpot(kiln_srdhm(reciprocal, e), out_shift) + lo;
      const int32_t q = v < lo ? lo : (v > hi ? hi : v);
      if (y8 != NULL) {
        y8[row + c] = (int8_t)q;
      } else {
        y16[row + c] = (int16_t)q;
      }
    }
  }
}

void kiln_softmax_s8(const kiln_softmax_s8_params *p, const int8_t *x, int8_t *y) {
  softmax_s8_to(p, x, 8, y, NULL);
}

void kiln_softmax_s8_s16(const kiln_softmax_s8_params *p, const int8_t *x, int16_t *y) {
  softmax_s8_to(p, x, 16, NULL, y);
}

void kiln_softmax_f32(const kiln_softmax_f32_params *p, const float *x, float *y) {
  const int32_t depth = p->depth;
  const float beta = p->beta;
  int32_t r;
  for (r = 0; r < p->rows; ++r) {
    const float *xr = x + (ptrdiff_t)r * depth;
    float *yr = y + (ptrdiff_t)r * depth;
    float max = -FLT_MAX;
    float sum = 0.0f;
    int32_t c;
    for (c = 0; c < depth; ++c) max = max < xr[c] ? xr[c] : max;
    for (c = 0; c < depth; ++c) {
      const float e = expf((xr[c] - max) * beta);
      yr[c] = e;
      sum += e;
    }
    for (c = 0; c < depth; ++c) yr[c] = yr[c] / sum;
  }
}

/* ====================================================================== */
/* Tables, activations, (de)quantization, copies                          */
/* ====================================================================== */

void kiln_lut_s8(const int8_t table[256], const int8_t *x, int8_t *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = table[x[i] + 128];
}

void kiln_lut_u8(const uint8_t table[256], const uint8_t *x, uint8_t *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = table[x[i]];
}

void kiln_clamp_array_f32(const float *x, float *y, int32_t count, float lo, float hi) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = clamp_f32(x[i], lo, hi);
}

void kiln_logistic_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) {
    const float v = x[i];
    if (v > 16.619047164916992188f) {
      y[i] = 1.0f;
    } else if (v < -9.0f) {
      y[i] = expf(v);
    } else {
      y[i] = 1.0f / (1.0f + expf(-v));
    }
  }
}

void kiln_tanh_f32(const float *x, float *y, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = tanhf(x[i]);
}

/*
 * roundf(x / scale) for the quantizers, limited to [-512, 512] first (NaN goes
 * to -512): every clamped value still saturates the same way, and the float to
 * int conversion stays defined. Rounds half away from zero like roundf.
 */
static inline int32_t quantize_round(float x, float scale) {
  float q = x / scale;
  int32_t t;
  float frac;
  if (!(q >= -512.0f)) q = -512.0f;
  if (q > 512.0f) q = 512.0f;
  t = (int32_t)q;       /* toward zero */
  frac = q - (float)t;  /* exact */
  return t + (frac >= 0.5f) - (frac <= -0.5f);
}

void kiln_quantize_f32_s8(const float *x, int8_t *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = clamp_s8(quantize_round(x[i], scale) + zero_point, -128, 127);
}

void kiln_quantize_f32_u8(const float *x, uint8_t *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) {
    const int32_t v = quantize_round(x[i], scale) + zero_point;
    y[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
}

/* The same with ties to even (ONNX QuantizeLinear, onnxruntime's MLAS). */
static inline int32_t quantize_round_half_even(float x, float scale) {
  float q = x / scale;
  int32_t t;
  float frac;
  if (!(q >= -512.0f)) q = -512.0f;
  if (q > 512.0f) q = 512.0f;
  t = (int32_t)q;       /* toward zero */
  frac = q - (float)t;  /* exact */
  if (frac > 0.5f || (frac == 0.5f && (t & 1))) return t + 1;
  if (frac < -0.5f || (frac == -0.5f && (t & 1))) return t - 1;
  return t;
}

void kiln_quantize_half_even_f32_s8(const float *x, int8_t *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = clamp_s8(quantize_round_half_even(x[i], scale) + zero_point, -128, 127);
}

void kiln_quantize_half_even_f32_u8(const float *x, uint8_t *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) {
    const int32_t v = quantize_round_half_even(x[i], scale) + zero_point;
    y[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
}

void kiln_dequantize_s8_f32(const int8_t *x, float *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = scale * (float)(x[i] - zero_point);
}

void kiln_dequantize_u8_f32(const uint8_t *x, float *y, int32_t count, float scale, int32_t zero_point) {
  int32_t i;
  for (i = 0; i < count; ++i) y[i] = scale * (float)(x[i] - zero_point);
}

/* The compiler turns this loop into a block copy (GCC: memmove). */
static void copy_bytes(uint8_t *restrict dst, const uint8_t *restrict src, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) dst[i] = src[i];
}

void kiln_copy_rows(const void *x, void *y, int32_t rows, int32_t row_bytes, int32_t dst_stride, int32_t dst_offset) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y + dst_offset;
  int32_t r;
  for (r = 0; r < rows; ++r) {
    copy_bytes(dst, src, (size_t)row_bytes);
    src += row_bytes;
    dst += dst_stride;
  }
}

/* ====================================================================== */
/* ADD and MUL as onnxruntime's QLinearAdd / QLinearMul (x86-64 MLAS).     */
/* ====================================================================== */

/*
 * float32(x * r + t) rounded once, as a fused multiply-add. x is a code
 * (|x| <= 255), so x * r is exact in double and, for the magnitudes a
 * requantization meets, so is the sum: the only rounding is the cast. (C99's
 * fmaf is not fused on every embedded libm.)
 */
static inline float qlinear_fma(int32_t x, float r, float t) {
  return (float)((double)x * (double)r + (double)t);
}

/* rne(v), saturated to the codes' domain, stored as int8 */
static inline int8_t qlinear_saturate(float v, int32_t code_offset) {
  const int32_t q = quantize_round_half_even(v, 1.0f); /* v / 1 is exact */
  return (int8_t)(clamp_s8(q - code_offset, -128, 127));
}

static inline int8_t qlinear_add_one(const kiln_qlinear_add_params *p, int8_t a, int8_t b) {
  const int32_t u = a + p->code_offset;
  const int32_t v = b + p->code_offset;
  const float sum = p->x1_inner ? qlinear_fma(v, p->ratio2, qlinear_fma(u, p->ratio1, p->fixed))
                                : qlinear_fma(u, p->ratio1, qlinear_fma(v, p->ratio2, p->fixed));
  return qlinear_saturate(sum, p->code_offset);
}

static inline int8_t qlinear_mul_one(const kiln_qlinear_mul_params *p, int8_t a, int8_t b) {
  const int32_t prod = (a + p->code_offset - p->input1_zero) * (b + p->code_offset - p->input2_zero);
  /* the product rounded to float32 (exact in double first), then the zero point added in float32 */
  const float scaled = (float)((double)prod * (double)p->ratio);
  return qlinear_saturate(scaled + (float)p->output_zero, p->code_offset);
}

/* One broadcast loop per operator, y = one(p, x1, x2) element by element. */
#define KILN_QLINEAR_S8(name, P, one)                                                                      \
  void name(const P *p, const int8_t *x1, const int8_t *x2, int8_t *y) {                                   \
    const kiln_bcast *b = &p->bc;                                                                          \
    const int32_t n = b->shape[KILN_BCAST_RANK - 1];                                                       \
    const int32_t s1 = b->stride1[KILN_BCAST_RANK - 1];                                                    \
    const int32_t s2 = b->stride2[KILN_BCAST_RANK - 1];                                                    \
    const int32_t rows = bcast_rows(b);                                                                    \
    bcast_iter it;                                                                                         \
    int32_t r;                                                                                             \
    int32_t i;                                                                                             \
    bcast_start(&it);                                                                                      \
    for (r = 0; r < rows; ++r) {                                                                           \
      const int8_t *a = x1 + it.off1;                                                                      \
      const int8_t *c = x2 + it.off2;                                                                      \
      int8_t *out = y + (ptrdiff_t)r * n;                                                                  \
      for (i = 0; i < n; ++i) out[i] = one(p, a[(ptrdiff_t)i * s1], c[(ptrdiff_t)i * s2]);                 \
      bcast_next(b, &it);                                                                                  \
    }                                                                                                      \
  }

KILN_QLINEAR_S8(kiln_qlinear_add_s8, kiln_qlinear_add_params, qlinear_add_one)
KILN_QLINEAR_S8(kiln_qlinear_mul_s8, kiln_qlinear_mul_params, qlinear_mul_one)

#undef KILN_QLINEAR_S8
