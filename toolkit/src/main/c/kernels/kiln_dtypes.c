/* Kiln kernel library: int16 LOGISTIC, TANH and table lookups (see kiln_dtypes.h). */
#include "kiln_dtypes.h"

#include "kiln_fixedpoint.h"

/* sigmoid(i / 24) in 0.16 fixed point for i = 0..255, the table TFLite's int16 kernels interpolate. */
static const uint16_t kiln_sigmoid_table_u16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

/*
 * The input rescaled so that 2^17 stands for 10.7 (scale 1/(3*4096)): x * multiplier, rounded,
 * shifted right. |x| < 2^15 and multiplier < 2^15 (Prepare keeps it under 32767), so the product
 * fits in 31 bits. A multiplier of 0 means a power-of-two scale: 3 << shift, no shift.
 */
static int32_t kiln_sigmoid_input(int16_t x, int32_t multiplier, int32_t left_shift) {
  int32_t round;
  if (multiplier == 0) {
    multiplier = 3 * (1 << left_shift);
    left_shift = 0;
  }
  round = left_shift > 0 ? (1 << (left_shift - 1)) : 0;
  return (x * multiplier + round) >> left_shift;
}

void kiln_logistic_s16(const int16_t *in, int16_t *out, size_t n, int32_t input_multiplier, int32_t input_left_shift) {
  size_t i;
  for (i = 0; i < n; i++) {
    const int32_t x = kiln_sigmoid_input(in[i], input_multiplier, input_left_shift);
    const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
    /* 2^7 per table step from the input scaling, and 1/4 of the range scaling: index = |x| / 2^9 */
    const uint32_t uh = ax >> 9;
    uint32_t result;
    if (uh >= 255u) {
      result = 0x7FFFu << 10;
    } else {
      const uint32_t ua = kiln_sigmoid_table_u16[uh];
      const uint32_t ub = kiln_sigmoid_table_u16[uh + 1u];
      const uint32_t ut = ax & 0x1FFu;
      result = (ua << 9) + ut * (ub - ua);
    }
    /* sigmoid(-x) = 1 - sigmoid(x); both rounded to nearest on the way back to 16 bits */
    result = x >= 0 ? result + (1u << 9) : (1u << (16 + 9)) - result + (1u << 9) - 1u;
    out[i] = (int16_t)(result >> 10);
  }
}

void kiln_tanh_s16(const int16_t *in, int16_t *out, size_t n, int32_t input_multiplier, int32_t input_left_shift) {
  size_t i;
  for (i = 0; i < n; i++) {
    /* tanh(x) = 2 * sigmoid(2x) - 1: the same table at twice the input step */
    const int32_t x = kiln_sigmoid_input(in[i], input_multiplier, input_left_shift);
    const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
    const uint32_t uh = ax >> 8;
    int32_t result;
    if (uh >= 255u) {
      result = (int32_t)(0xFFFFu << 8);
    } else {
      const uint32_t ua = kiln_sigmoid_table_u16[uh];
      const uint32_t ub = kiln_sigmoid_table_u16[uh + 1u];
      const uint32_t ut = ax & 0xFFu;
      result = (int32_t)((ua << 8) + ut * (ub - ua));
    }
    result = x >= 0 ? result - (1 << (14 + 9)) + (1 << (9 - 2)) : -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
    /* an arithmetic shift of a value in (-2^24, 2^24): divide, rounding toward minus infinity */
    out[i] = (int16_t)(result >= 0 ? result / 256 : -((-result + 255) / 256));
  }
}

void kiln_lut_s16(const kiln_lut16 *lut, const int16_t *in, int16_t *out, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    const int32_t value = in[i];
    /* floor(value / 128) and value mod 128, written out so no negative number is shifted */
    const int32_t step = value >= 0 ? value / 128 : -((-value + 127) / 128);
    const int32_t offset = value - step * 128;
    const int32_t base = lut->v[256 + step];
    const int32_t slope = lut->v[256 + step + 1] - base;
    /* Q0.15 slope times a 7-bit offset, rounded back to Q0.15 (floor of (x + 64) / 128) */
    const int32_t scaled = slope * offset + 64;
    const int32_t delta = scaled >= 0 ? scaled / 128 : -((-scaled + 127) / 128);
    out[i] = (int16_t)(base + delta);
  }
}

void kiln_relu_s16(const int16_t *in, int16_t *out, size_t n, int32_t multiplier, int32_t shift, int32_t lo, int32_t hi) {
  size_t i;
  for (i = 0; i < n; i++) {
    /* Prepare checked that |in| * 2^max(shift, 0) fits 32 bits */
    out[i] = (int16_t)kiln_clamp_i32(kiln_mbqm(in[i], multiplier, (int)shift), lo, hi);
  }
}

void kiln_batch_matmul_s16(const kiln_bmm_params *p, const int16_t *x, const int16_t *y, int16_t *output) {
  int32_t b, i, j, k;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *xb = x + p->x_base[b];
    const int16_t *yb = y + p->y_base[b];
    int16_t *out = output + b * p->rows * p->cols;
    for (i = 0; i < p->rows; ++i) {
      for (j = 0; j < p->cols; ++j) {
        /* each product is under 2^30 and Prepare keeps depth under 2^17, so the sum stays under 2^47 */
        int64_t total = 0;
        int64_t v;
        for (k = 0; k < p->depth; ++k) {
          total += (int64_t)xb[i * p->x_row_stride + k * p->x_depth_stride] * (int64_t)yb[j * p->y_col_stride + k * p->y_depth_stride];
        }
        v = kiln_mbqm64(total, p->out_multiplier, p->out_shift);
        v = v < p->act_min ? p->act_min : v;
        v = v > p->act_max ? p->act_max : v;
        out[i * p->cols + j] = (int16_t)v;
      }
    }
  }
}
