/*
 * Private helpers of the kiln_nn_*.c kernels and kiln_eltwise.c's int8 ADD (not part of the kernel API).
 */
#ifndef KILN_NN_UTIL_H
#define KILN_NN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Filter taps k in [*first, *end) whose input coordinate origin + k * dilation lies in
 * [0, size): the taps a kernel visits; the others fall on implicit padding and are skipped.
 */
static inline void kiln_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                  int32_t *first, int32_t *end) {
  int32_t lo = 0;
  int32_t hi = 0;
  if (dilation == 1) { /* the usual case, without the divisions (a pixel loop calls this) */
    if (origin < 0) lo = -origin;
    if (origin < size) hi = size - origin;
  } else {
    if (origin < 0) lo = (-origin + dilation - 1) / dilation;
    if (origin < size) hi = (size - origin + dilation - 1) / dilation;
  }
  if (hi > taps) hi = taps;
  if (lo > hi) lo = hi;
  *first = lo;
  *end = hi;
}

/*
 * Integer requantization as one 32x32 -> 64-bit product, an add and a shift:
 * floor((acc * multiplier + offset) / 2^shift), with one offset for acc >= 0 and one for acc < 0
 * (0 <= multiplier < 2^31, 0 <= shift <= 62, |offset| <= 2^62, so nothing overflows). Two sources:
 *
 * - the FULLY_CONNECTED tables (KILN_RESCALE_WORDS words: multiplier, shift, then the offsets for
 *   acc >= 0 and acc < 0 as high and low 32 bits), which Kiln's compiler proved equal, after the
 *   output zero point and the activation clamp, to TF 2.21's round(double(acc) * M) for every
 *   int32 accumulator (dev.kiln.compile.LinearRescale);
 *
 * - kiln_mbqm_rescale, the exact form of kiln_mbqm (kiln_fixedpoint.h, TF 2.21's double-rounding
 *   MultiplyByQuantizedMultiplier) for q >= 0 (as QuantizeMultiplier returns) and
 *   -31 <= shift <= 30, x * 2^shift in int32 when shift > 0 (the compiler checks that). With
 *   t = SRDHM(x, q) = floor((x q + 2^30) / 2^31) and R = -shift >= 1, RDBPOT(t, R) =
 *   floor((t + 2^(R-1)) / 2^R) for t >= 0 and floor((t + 2^(R-1) - 1) / 2^R) for t < 0 (ties away
 *   from zero); both agree at t = 0, and t has the sign of x or is 0. Nested floors merge
 *   (floor((floor(a/b) + c)/d) = floor((a + bc)/(bd))), so MBQM(x) = floor((x q + 2^30 + 2^(30+R)
 *   - [x < 0] 2^31) / 2^(31+R)); for R = 0 it is t itself, and for shift = L > 0,
 *   SRDHM(x 2^L, q) = floor((x q + 2^(30-L)) / 2^(31-L)). NnKernelsTest checks it against
 *   kiln_mbqm.
 */
#define KILN_RESCALE_WORDS 6
/* (A table entry may also hold the float form, KILN_RESCALE_FLOAT below, which kiln_rescale_apply
 * tells apart when KILN_RESCALE_FLOAT_USED; kiln_linear_rescale takes the integer form only.) */

/*
 * 1 when a rescale table of the model may hold the float form (KILN_RESCALE_FLOAT below): the code
 * generator sets it in the model's copy of this header (ModelWriter.kernelFiles) when an emitter
 * wrote such an entry, so a user's own build of the generated files gets it too. Off, the kernels
 * are compiled without the float branch at all: same code and instruction counts as before it
 * existed for every model that never needs it (all TFLite models; issue 12).
 */
#ifndef KILN_RESCALE_FLOAT_USED
#define KILN_RESCALE_FLOAT_USED 0
#endif

typedef struct {
  int32_t multiplier;
  int32_t shift;
  int64_t offset_non_negative;
  int64_t offset_negative;
} kiln_rescale;

static inline kiln_rescale kiln_rescale_load(const int32_t *words) {
  kiln_rescale r;
  r.multiplier = words[0];
  r.shift = words[1];
  r.offset_non_negative = (int64_t)words[2] * ((int64_t)1 << 32) + (int64_t)(uint32_t)words[3];
  r.offset_negative = (int64_t)words[4] * ((int64_t)1 << 32) + (int64_t)(uint32_t)words[5];
  return r;
}

/*
 * A table of one entry (a per-tensor FULLY_CONNECTED) may take the rounded form when both offsets
 * are 2^(shift - 1), floor((acc * multiplier + 2^(shift - 1)) / 2^shift): 2 words, the multiplier
 * and shift + KILN_RESCALE_ROUNDED (1 <= shift <= 62), instead of KILN_RESCALE_WORDS (mlperf_ad's
 * ten FCs: 160 B). The same entry either way; kiln_rescale_load_one tells them apart, once a call.
 */
#define KILN_RESCALE_ROUNDED 64

static inline kiln_rescale kiln_rescale_load_one(const int32_t *words) {
  kiln_rescale r;
  if (words[1] < KILN_RESCALE_ROUNDED) return kiln_rescale_load(words);
  r.multiplier = words[0];
  r.shift = words[1] - KILN_RESCALE_ROUNDED;
  r.offset_non_negative = (int64_t)1 << (r.shift - 1);
  r.offset_negative = r.offset_non_negative;
  return r;
}

static inline kiln_rescale kiln_mbqm_rescale(int32_t q, int32_t shift) {
  kiln_rescale r;
  r.multiplier = q;
  r.shift = 31 - shift;
  if (shift > 0) {
    r.offset_non_negative = (int64_t)1 << (30 - shift);
    r.offset_negative = r.offset_non_negative;
  } else if (shift == 0) {
    r.offset_non_negative = (int64_t)1 << 30;
    r.offset_negative = r.offset_non_negative;
  } else {
    r.offset_non_negative = ((int64_t)1 << 30) + ((int64_t)1 << (30 - shift));
    r.offset_negative = r.offset_non_negative - ((int64_t)1 << 31);
  }
  return r;
}

static inline int64_t kiln_linear_rescale(int32_t acc, const kiln_rescale *r) {
  const int64_t v =
      (int64_t)acc * r->multiplier + (acc >= 0 ? r->offset_non_negative : r->offset_negative);
  /* floor(v / 2^shift) without right-shifting a negative value (implementation-defined in C99) */
  return v >= 0 ? v >> r->shift : ~(~v >> r->shift);
}

/*
 * The float form of a rescale entry (shift word KILN_RESCALE_FLOAT, the multiplier word holding the
 * bits of a float32 m): onnxruntime's requantization rne(float32(acc) * m) itself, for the channels
 * of a fused QDQ group for which the compiler found no exact integer rescale (its float32 product
 * rounds where no straight line steps; dev.kiln.compile.LinearRescale). MLAS converts acc to
 * float32 (round to nearest), multiplies once in float32, clamps and rounds half to even; the
 * caller adds the zero point and clamps to the activation range. Clamping to +-256 first changes
 * nothing after that clamp (rounding is monotone and the bounds are integers) and keeps the
 * conversion to int32 defined. Rounding half to even is written out, without libm: the value is
 * compared with t +- 1/2 (exact for |t| <= 256) rather than subtracted from, so no fused
 * multiply-add (gcc -ffp-contract=fast in GNU mode) can skip the product's rounding; the product
 * must be a float32 (FLT_EVAL_METHOD 0, or ISO C mode, which rounds excess precision on
 * assignment: -std=c99 on an x87 host). On a Cortex-M4F this is a VMUL; soft-float elsewhere, paid
 * only by those channels.
 */
#define KILN_RESCALE_FLOAT (-1)

/*
 * 1 on cores without single-precision hardware float (ARM without the FPU's single-precision bit,
 * RISC-V without F), where the float form would be libgcc soft-float calls: there
 * kiln_float_rescale is kiln_float_rescale_integer below, the same value in integer arithmetic.
 * Hardware float (Cortex-M4F, hosts) keeps kiln_float_rescale_float. A build may set it either way.
 */
#ifndef KILN_RESCALE_INTEGER_FORM
#if (defined(__arm__) && !(defined(__ARM_FP) && (__ARM_FP & 4))) || (defined(__riscv) && !defined(__riscv_flen))
#define KILN_RESCALE_INTEGER_FORM 1
#else
#define KILN_RESCALE_INTEGER_FORM 0
#endif
#endif

#if KILN_RESCALE_FLOAT_USED
#if !KILN_RESCALE_INTEGER_FORM || defined(KILN_RESCALE_BOTH_FORMS)
#if defined(__GNUC__)
/* out of line: the integer paths it sits beside compile as they did without it (issue 12) */
__attribute__((noinline))
#endif
static int32_t kiln_float_rescale_float(int32_t acc, int32_t scale_bits) {
  float m;
  float v;
  float half;
  int32_t t;
  memcpy(&m, &scale_bits, sizeof m);
  v = (float)acc * m;
  if (!(v >= -256.0f)) v = -256.0f; /* NaN too */
  if (v > 256.0f) v = 256.0f;
  t = (int32_t)v; /* toward zero */
  if (v >= 0.0f) {
    half = (float)t + 0.5f;
    if (v > half || (v == half && (t & 1) != 0)) ++t;
  } else {
    half = (float)t - 0.5f;
    if (v < half || (v == half && (t & 1) != 0)) --t;
  }
  return t;
}
#endif

#if KILN_RESCALE_INTEGER_FORM || defined(KILN_RESCALE_BOTH_FORMS)
/* The number of leading zero bits of x != 0 (CLZ on a Cortex-M3; a libgcc routine on the M0). */
static inline int32_t kiln_clz32(uint32_t x) {
#if defined(__GNUC__)
  return (int32_t)__builtin_clz(x);
#else
  int32_t n = 0;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
#endif
}

/*
 * kiln_float_rescale_float's value, IEEE float32 step by step in integers: |acc| rounded half to
 * even to 24 significant bits (float32(acc), inexact from 2^24 up) as qa 2^ea with 2^23 <= qa <
 * 2^24 (qa = 2^24 after a carry is renormalized); m's significand qm (2^23 <= qm < 2^24) with
 * exponent em; their product qa qm, exact in 48 bits in [2^46, 2^48), rounded half to even to 24
 * bits q (2^23 <= q <= 2^24), so |v| = q 2^e is the float32 product. Its exponent stays far inside
 * float32's normal range for what matters: |v| >= 2^23 2^-15 = 256 when e > -16 clamps to 256
 * (float32 overflow to infinity too), and |v| <= 2^24 2^-25 = 1/2 when e < -24 rounds to 0 (a tie
 * at 1/2 to even 0; a float32 subnormal or underflow too). In between, rne(q / 2^n) for n = -e
 * >= 16 is at most 2^24 / 2^16 = 256: no clamp left. The sign is applied last (rne is odd). m = 0 or subnormal: |v| <
 * 2^31 2^-126, so 0; m infinite: +-256 by the sign, or NaN for acc = 0; m NaN: NaN; a NaN v is
 * -256, as kiln_float_rescale_float's !(v >= -256). NnKernelsTest compares both forms.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t kiln_float_rescale_integer(int32_t acc, int32_t scale_bits) {
  const uint32_t bits = (uint32_t)scale_bits;
  const uint32_t exponent_field = (bits >> 23) & 0xffu;
  const int negative = (acc < 0) != ((bits >> 31) != 0);
  uint32_t a = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc; /* INT32_MIN: 2^31 */
  int32_t e;
  int32_t n;
  int32_t z;
  uint64_t p;
  uint32_t q;
  uint32_t t;
  uint32_t rest;
  uint32_t half;
  if (exponent_field == 0xffu) {
    if ((bits & 0x7fffffu) != 0 || a == 0) return -256; /* NaN */
    return negative ? -256 : 256;
  }
  if (exponent_field == 0 || a == 0) return 0;
  e = (int32_t)exponent_field - 150;
  z = kiln_clz32(a);
  if (z >= 8) { /* |acc| < 2^24: exact */
    a <<= z - 8;
    e -= z - 8;
  } else { /* round to 24 bits */
    const int32_t s = 8 - z;
    rest = a & ((1u << s) - 1u);
    half = 1u << (s - 1);
    a >>= s;
    if (rest > half || (rest == half && (a & 1u) != 0)) ++a;
    e += s;
    if (a == (1u << 24)) {
      a >>= 1;
      ++e;
    }
  }
  p = (uint64_t)a * ((bits & 0x7fffffu) | 0x800000u);
  if (p >= ((uint64_t)1 << 47)) { /* 48 bits: drop 24 */
    q = (uint32_t)(p >> 24);
    rest = (uint32_t)p & 0xffffffu;
    half = 0x800000u;
    e += 24;
  } else { /* 47 bits: drop 23 */
    q = (uint32_t)(p >> 23);
    rest = (uint32_t)p & 0x7fffffu;
    half = 0x400000u;
    e += 23;
  }
  if (rest > half || (rest == half && (q & 1u) != 0)) ++q;
  if (e > -16) return negative ? -256 : 256;
  if (e < -24) return 0;
  n = -e;
  t = q >> n;
  rest = q & ((1u << n) - 1u);
  half = 1u << (n - 1);
  if (rest > half || (rest == half && (t & 1u) != 0)) ++t;
  return negative ? -(int32_t)t : (int32_t)t;
}
#endif

#if KILN_RESCALE_INTEGER_FORM
#define kiln_float_rescale kiln_float_rescale_integer
#else
#define kiln_float_rescale kiln_float_rescale_float
#endif

/* A rescale entry of either form: kiln_linear_rescale, or kiln_float_rescale (KILN_RESCALE_FLOAT). */
static inline int64_t kiln_rescale_apply(int32_t acc, const kiln_rescale *r) {
  return r->shift == KILN_RESCALE_FLOAT ? (int64_t)kiln_float_rescale(acc, r->multiplier)
                                        : kiln_linear_rescale(acc, r);
}
#else
/* No table of the model holds the float form: the integer rescale alone, as before it existed. */
#define kiln_rescale_apply kiln_linear_rescale
#endif

/*
 * kiln_linear_rescale for shift >= 32 in 32-bit steps: the high word of acc * multiplier + offset
 * (one SMLAL on a Cortex-M; |acc * multiplier + offset| < 2^63, so it fits int32), then an
 * arithmetic shift by shift - 32; floor(floor(v / 2^32) / 2^(shift - 32)) = floor(v / 2^shift).
 */
static inline int32_t kiln_linear_rescale_high(int32_t acc, const kiln_rescale *r) {
  const int64_t v =
      (int64_t)acc * r->multiplier + (acc >= 0 ? r->offset_non_negative : r->offset_negative);
  const int32_t h = (int32_t)(v >= 0 ? v >> 32 : ~(~v >> 32));
  const int32_t s = r->shift - 32;
  return h >= 0 ? h >> s : ~(~h >> s);
}

/*
 * TFLite's MBQM in 32-bit arithmetic, for the conv kernels when the compiler proved
 * |x| * 2^(max(shift, 0) + 1) < 2^31 for every x = acc + bias the channel can produce
 * (p->requant32). With h = floor((x 2^(L+1) q + 2^31) / 2^32) (the high word of one 32x32
 * product plus the constant 2^31: SMULL, ADDS, ADC on a Cortex-M), L = max(shift, 0),
 * R = max(-shift, 0):
 * - R = 0: MBQM(x) = SRDHM(x 2^L, q) = floor((x 2^L q + 2^30) / 2^31) = h (numerator and
 *   denominator doubled);
 * - R >= 1: MBQM(x) = floor((x q + 2^30 + 2^(30+R) - [x < 0] 2^31) / 2^(31+R)) (kiln_mbqm_rescale's
 *   derivation above); doubled, the addend 2^(31+R) - [x < 0] 2^32 is a multiple of 2^32, and
 *   nested floors merge, so MBQM(x) = floor((h + 2^(R-1) - [x < 0]) / 2^R).
 * Both are one form: floor((h + round - (negative & [x < 0])) / 2^right) with the per-channel
 * constants of kiln_requant32_of (round = negative = 0 when R = 0), so no branch on the shift's sign
 * is left in the loop. NnKernelsTest checks it against kiln_mbqm.
 */
typedef struct {
  int32_t multiplier;
  int32_t left;      /* L + 1 (<= 30, the compiler checks) */
  int32_t right;     /* R */
  int32_t round;     /* 2^(R-1), or 0 */
  int32_t sign_mask; /* -1 if R >= 1, else 0: selects the - [x < 0] term */
} kiln_requant32;

static inline kiln_requant32 kiln_requant32_of(int32_t q, int32_t shift) {
  kiln_requant32 r;
  r.multiplier = q;
  r.left = shift > 0 ? shift + 1 : 1;
  r.right = shift > 0 ? 0 : -shift;
  r.round = r.right > 0 ? (int32_t)1 << (r.right - 1) : 0;
  r.sign_mask = r.right > 0 ? -1 : 0;
  return r;
}

/*
 * h + round - [x < 0] (or h, R = 0) is the high word of one multiply-accumulate whose 64-bit
 * accumulator starts at (round + (sign & sign_mask)) 2^32 + 2^31 (sign = -1 for x < 0, else 0):
 * one SMLAL; then the arithmetic shift by R. |x 2^left q| < 2^62, so nothing overflows.
 */
static inline int32_t kiln_requant32_apply(int32_t x, const kiln_requant32 *r) {
  const int32_t sign = x < 0 ? -1 : 0;
  const int64_t start =
      (int64_t)(r->round + (sign & r->sign_mask)) * ((int64_t)1 << 32) + ((int64_t)1 << 31);
  const int64_t v = start + (int64_t)(x * ((int32_t)1 << r->left)) * r->multiplier;
  /* floor(v / 2^32), the high word, and floor(h / 2^R), without right-shifting a negative value */
  const int32_t h = (int32_t)(v >= 0 ? v >> 32 : ~(~v >> 32));
  return h >= 0 ? h >> r->right : ~(~h >> r->right);
}

/*
 * A requantized value clamped to [lo, hi] as an int8 code, written as two selects (compilers emit
 * conditional moves): a fused RELU clamps about half the values, an unpredictable branch.
 */
static inline int8_t kiln_clamp_s8(int64_t y, int64_t lo, int64_t hi) {
  y = y < lo ? lo : y;
  y = y > hi ? hi : y;
  return (int8_t)y;
}

/* The same in 32 bits (for requantized values that fit int32: kiln_requant32_apply + offset). */
static inline int8_t kiln_clamp_s8_32(int32_t y, int32_t lo, int32_t hi) {
  y = y < lo ? lo : y;
  y = y > hi ? hi : y;
  return (int8_t)y;
}

/* TFLite's ActivationFunctionWithMinMax on float: min(max(v, lo), hi); a NaN passes through. */
static inline float kiln_clamp_f32(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return hi < v ? hi : v;
}

/*
 * Dot products of the int8 kernels, written so that gcc -O2 vectorizes them (an inner loop of a
 * constant 16 iterations; x + x_offset in 16 bits, which holds [-255, 255]):
 * kiln_dot_s8 returns sum_k w[k] * (x[k] + x_offset); kiln_dot4_s8 adds the same for the four
 * filter rows w, w + w_stride, w + 2 w_stride, w + 3 w_stride to acc[0..3], reading x once.
 * Exact integer sums, so the order does not matter.
 */
#if defined(__ARM_FEATURE_DSP)
/*
 * Cortex-M4/M7/M33 with the DSP extension (chosen at compile time; the portable C below serves
 * every other target): four int8 values are one 32-bit load; SXTB16 sign-extends bytes 0 and 2
 * (and, after a rotation by 8, bytes 1 and 3) into two int16 lanes, SXTAB16 does the same and adds
 * x_offset to both lanes (|x + x_offset| <= 255 fits a lane), and SMLAD adds both lane products
 * to an int32 sum. Weights and inputs are split the same way, so lane k of one meets lane k of the
 * other: sum_k w[k] * (x[k] + x_offset), exactly, as below.
 */
#include <arm_acle.h>
#include <string.h>

static inline int32_t kiln_load_s8x4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4); /* one (unaligned) LDR */
  return v;
}

static inline int32_t kiln_ror8(int32_t v) {
  const uint32_t u = (uint32_t)v;
  return (int32_t)((u >> 8) | (u << 24));
}

/* x_offset in both int16 lanes. */
static inline int32_t kiln_offset_x2(int32_t x_offset) {
  return (int32_t)(((uint32_t)x_offset & 0xffffu) * 0x10001u);
}

static inline int32_t kiln_dot_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t x_offset) {
  const int32_t off2 = kiln_offset_x2(x_offset);
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int32_t xv = kiln_load_s8x4(x + i);
    const int32_t wv = kiln_load_s8x4(w + i);
    acc = __smlad(__sxtb16(wv), __sxtab16(off2, xv), acc);
    acc = __smlad(__sxtb16(kiln_ror8(wv)), __sxtab16(off2, kiln_ror8(xv)), acc);
  }
  for (; i < n; ++i) acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
  return acc;
}

static inline void kiln_dot4_s8(const int8_t *w, size_t w_stride, const int8_t *x, int32_t n,
                                int32_t x_offset, int32_t *acc) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  const int32_t off2 = kiln_offset_x2(x_offset);
  int32_t a0 = 0;
  int32_t a1 = 0;
  int32_t a2 = 0;
  int32_t a3 = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int32_t xv = kiln_load_s8x4(x + i);
    const int32_t x02 = __sxtab16(off2, xv);
    const int32_t x13 = __sxtab16(off2, kiln_ror8(xv));
    int32_t wv = kiln_load_s8x4(w0 + i);
    a0 = __smlad(__sxtb16(wv), x02, a0);
    a0 = __smlad(__sxtb16(kiln_ror8(wv)), x13, a0);
    wv = kiln_load_s8x4(w1 + i);
    a1 = __smlad(__sxtb16(wv), x02, a1);
    a1 = __smlad(__sxtb16(kiln_ror8(wv)), x13, a1);
    wv = kiln_load_s8x4(w2 + i);
    a2 = __smlad(__sxtb16(wv), x02, a2);
    a2 = __smlad(__sxtb16(kiln_ror8(wv)), x13, a2);
    wv = kiln_load_s8x4(w3 + i);
    a3 = __smlad(__sxtb16(wv), x02, a3);
    a3 = __smlad(__sxtb16(kiln_ror8(wv)), x13, a3);
  }
  for (; i < n; ++i) {
    const int32_t xv = (int32_t)x[i] + x_offset;
    a0 += (int32_t)w0[i] * xv;
    a1 += (int32_t)w1[i] * xv;
    a2 += (int32_t)w2[i] * xv;
    a3 += (int32_t)w3[i] * xv;
  }
  acc[0] += a0;
  acc[1] += a1;
  acc[2] += a2;
  acc[3] += a3;
}

#else /* portable C */
static inline int32_t kiln_dot_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t x_offset) {
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int32_t s = 0;
    int k;
    for (k = 0; k < 16; ++k) s += (int32_t)w[i + k] * (int16_t)(x[i + k] + x_offset);
    acc += s;
  }
  for (; i < n; ++i) acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
  return acc;
}

/* kiln_dot4_s8's inner block: rows w0..w3 against `size` (16 or 32) values of x. */
#define KILN_DOT4_BLOCK(size)                                                  \
  do {                                                                         \
    int16_t xv[size];                                                          \
    int32_t s0 = 0;                                                            \
    int32_t s1 = 0;                                                            \
    int32_t s2 = 0;                                                            \
    int32_t s3 = 0;                                                            \
    int k;                                                                     \
    for (k = 0; k < (size); ++k) xv[k] = (int16_t)(x[i + k] + x_offset);       \
    for (k = 0; k < (size); ++k) s0 += (int32_t)w0[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s1 += (int32_t)w1[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s2 += (int32_t)w2[i + k] * xv[k];             \
    for (k = 0; k < (size); ++k) s3 += (int32_t)w3[i + k] * xv[k];             \
    a0 += s0;                                                                  \
    a1 += s1;                                                                  \
    a2 += s2;                                                                  \
    a3 += s3;                                                                  \
    i += (size);                                                               \
  } while (0)

static inline void kiln_dot4_s8(const int8_t *w, size_t w_stride, const int8_t *x, int32_t n,
                                int32_t x_offset, int32_t *acc) {
  const int8_t *w0 = w;
  const int8_t *w1 = w0 + w_stride;
  const int8_t *w2 = w1 + w_stride;
  const int8_t *w3 = w2 + w_stride;
  int32_t a0 = 0;
  int32_t a1 = 0;
  int32_t a2 = 0;
  int32_t a3 = 0;
  int32_t i = 0;
  while (i + 32 <= n) KILN_DOT4_BLOCK(32);
  if (i + 16 <= n) KILN_DOT4_BLOCK(16);
  for (; i < n; ++i) {
    const int32_t xv = (int32_t)x[i] + x_offset;
    a0 += (int32_t)w0[i] * xv;
    a1 += (int32_t)w1[i] * xv;
    a2 += (int32_t)w2[i] * xv;
    a3 += (int32_t)w3[i] * xv;
  }
  acc[0] += a0;
  acc[1] += a1;
  acc[2] += a2;
  acc[3] += a3;
}

#endif /* __ARM_FEATURE_DSP */

/*
 * The same against staged int16 input runs (offset already added; kiln_widen_s8), the form the
 * conv kernels use: kiln_dot_s8_s16 returns sum_k w[k] * x[k]; kiln_dot_s8_s16_x4 writes
 * acc[j] = sum_k w[k] * x_j[k] for the four runs x_j = x + j * x_stride, so each weight is loaded
 * and widened once for four output pixels. Blocks of 64, 48, 32 or 16 values keep one vector
 * accumulator per run; the horizontal sums are paid once per block.
 */
static inline int32_t kiln_dot_s8_s16(const int8_t *w, const int16_t *x, int32_t n) {
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int32_t s = 0;
    int k;
    for (k = 0; k < 16; ++k) s += (int32_t)w[i + k] * x[i + k];
    acc += s;
  }
  for (; i < n; ++i) acc += (int32_t)w[i] * x[i];
  return acc;
}

#define KILN_DOT_X4_BLOCK(size)                                                \
  do {                                                                         \
    int32_t s0 = 0;                                                            \
    int32_t s1 = 0;                                                            \
    int32_t s2 = 0;                                                            \
    int32_t s3 = 0;                                                            \
    int k;                                                                     \
    for (k = 0; k < (size); ++k) {                                             \
      const int16_t wv = w[i + k];                                             \
      s0 += wv * x0[i + k];                                                    \
      s1 += wv * x1[i + k];                                                    \
      s2 += wv * x2[i + k];                                                    \
      s3 += wv * x3[i + k];                                                    \
    }                                                                          \
    a0 += s0;                                                                  \
    a1 += s1;                                                                  \
    a2 += s2;                                                                  \
    a3 += s3;                                                                  \
    i += (size);                                                               \
  } while (0)

static inline void kiln_dot_s8_s16_x4(const int8_t *w, const int16_t *x, size_t x_stride,
                                      int32_t n, int32_t *acc) {
  const int16_t *x0 = x;
  const int16_t *x1 = x0 + x_stride;
  const int16_t *x2 = x1 + x_stride;
  const int16_t *x3 = x2 + x_stride;
  int32_t a0 = 0;
  int32_t a1 = 0;
  int32_t a2 = 0;
  int32_t a3 = 0;
  int32_t i = 0;
  while (i + 64 <= n) KILN_DOT_X4_BLOCK(64);
  if (i + 48 <= n) {
    KILN_DOT_X4_BLOCK(48);
  } else if (i + 32 <= n) {
    KILN_DOT_X4_BLOCK(32);
  } else if (i + 16 <= n) {
    KILN_DOT_X4_BLOCK(16);
  }
  for (; i < n; ++i) {
    const int32_t wv = w[i];
    a0 += wv * x0[i];
    a1 += wv * x1[i];
    a2 += wv * x2[i];
    a3 += wv * x3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/*
 * dst[k] = src[k] + offset as int16, k < n (offset a negated zero point, so |dst| <= 255). Each
 * block is read into a local first: to the compiler an int8 source may alias the destination,
 * and gcc -O2 does not vectorize loops that need a run-time alias check.
 */
static inline void kiln_widen_s8(const int8_t *src, int32_t n, int32_t offset, int16_t *dst) {
  int32_t i = 0;
  int k;
  for (; i + 16 <= n; i += 16) {
    int8_t block[16];
    for (k = 0; k < 16; ++k) block[k] = src[i + k];
    for (k = 0; k < 16; ++k) dst[i + k] = (int16_t)(block[k] + offset);
  }
  if (i + 8 <= n) {
    int8_t block[8];
    for (k = 0; k < 8; ++k) block[k] = src[i + k];
    for (k = 0; k < 8; ++k) dst[i + k] = (int16_t)(block[k] + offset);
    i += 8;
  }
  for (; i < n; ++i) dst[i] = (int16_t)(src[i] + offset);
}

/*
 * float32 dot products in the reference order: each total is accumulated from 0.0f (or its
 * previous value) over k = 0, 1, ..., product then sum rounded separately. kiln_dot4_f32 keeps
 * four independent totals (four filter rows against one x), which only adds parallelism.
 */
static inline float kiln_dot_f32(const float *w, const float *x, int32_t n, float total) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const float product = x[i] * w[i];
    total += product;
  }
  return total;
}

static inline void kiln_dot4_f32(const float *w, size_t w_stride, const float *x, int32_t n,
                                 float *total) {
  const float *w0 = w;
  const float *w1 = w0 + w_stride;
  const float *w2 = w1 + w_stride;
  const float *w3 = w2 + w_stride;
  float t0 = total[0];
  float t1 = total[1];
  float t2 = total[2];
  float t3 = total[3];
  int32_t i;
  for (i = 0; i < n; ++i) {
    const float xv = x[i];
    const float p0 = xv * w0[i];
    const float p1 = xv * w1[i];
    const float p2 = xv * w2[i];
    const float p3 = xv * w3[i];
    t0 += p0;
    t1 += p1;
    t2 += p2;
    t3 += p3;
  }
  total[0] = t0;
  total[1] = t1;
  total[2] = t2;
  total[3] = t3;
}

/*
 * Hybrid-kernel input quantization (kiln_nn_quant.c). Symmetric: q = clamp(roundf(x * 127 /
 * range), -127, 127), range = max |x|; returns range / 127 (1 for all zeros). Asymmetric:
 * [min(0, min x), max(0, max x)] onto [-128, 127] with a zero point; returns the scale and writes
 * the zero point.
 */
float kiln_quantize_symmetric(const float *values, int32_t size, int8_t *quantized);
float kiln_quantize_asymmetric(const float *values, int32_t size, int8_t *quantized,
                               int32_t *zero_point);

#endif /* KILN_NN_UTIL_H */
