/*
 * Full-integer (8x8_16) sequence LSTM; see kiln_lstm8.h. The 16-bit fixed-point helpers below
 * follow gemmlowp's FixedPoint<int16_t, N> arithmetic that TFLite's portable ApplySigmoid /
 * ApplyTanh use: raw int16 values, wrapping adds, SaturatingRoundingDoublingHighMul, constants
 * given in Q31 and rounded to Q15.
 */
#include "kiln_lstm8.h"

#include <stddef.h>

#include "kiln_fixedpoint.h"

/* int16 wrap-around, as gemmlowp's int16 raw arithmetic (computed in int, narrowed). */
static int16_t fx_wrap(int32_t v) {
  const int32_t low = v & 0xFFFF;
  return (int16_t)(low >= 0x8000 ? low - 0x10000 : low);
}

static int16_t fx_mul(int16_t a, int16_t b) {
  int32_t ab;
  int32_t nudge;
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  ab = (int32_t)a * (int32_t)b;
  nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return fx_wrap((ab + nudge) / (1 << 15));
}

/* A Q31 constant as int16 raw: RoundingDivideByPOT(c, 16). */
static int16_t fx_const(int32_t c) { return (int16_t)kiln_rdbpot(c, 16); }

/* SaturatingRoundingMultiplyByPOT with exponent e > 0 on int16. */
static int16_t fx_sat_shl(int16_t x, int e) {
  const int32_t threshold = (1 << (15 - e)) - 1;
  if (x > threshold) return INT16_MAX;
  if (x < -threshold) return INT16_MIN;
  return fx_wrap((int32_t)x * (1 << e));
}

static int16_t fx_sat_add(int16_t a, int16_t b) {
  return (int16_t)kiln_clamp_i32((int32_t)a + (int32_t)b, INT16_MIN, INT16_MAX);
}

/* exp(a) for a in [-1/4, 0), Q0.15: Taylor expansion around -1/8. */
static int16_t fx_exp_quarter(int16_t a) {
  const int16_t constant_term = fx_const(1895147668); /* exp(-1/8) */
  const int16_t one_third = fx_const(715827883);
  const int16_t x = fx_wrap((int32_t)a + (1 << 12));
  const int16_t x2 = fx_mul(x, x);
  const int16_t x3 = fx_mul(x2, x);
  const int16_t x4 = fx_mul(x2, x2);
  const int16_t x4_over_4 = (int16_t)kiln_rdbpot(x4, 2);
  const int16_t poly = (int16_t)kiln_rdbpot(
      fx_wrap((int32_t)fx_mul(fx_wrap((int32_t)x4_over_4 + x3), one_third) + x2), 1);
  return fx_sat_add(constant_term, fx_mul(constant_term, fx_wrap((int32_t)x + poly)));
}

/* exp(a) for a <= 0 with integer_bits integer bits (1..6), result Q0.15. */
static int16_t fx_exp_negative(int16_t a, int integer_bits) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int fractional_bits = 15 - integer_bits;
  const int32_t quarter = (int32_t)1 << (fractional_bits - 2);
  const int16_t mod_minus_quarter = fx_wrap((a & (quarter - 1)) - quarter);
  const int16_t remainder = fx_wrap((int32_t)mod_minus_quarter - a);
  int16_t result = fx_exp_quarter(fx_sat_shl(mod_minus_quarter, integer_bits));
  int k;
  for (k = 0; k < 7; k++) {
    const int exponent = k - 2;
    if (integer_bits > exponent && (remainder & (1 << (fractional_bits + exponent))) != 0) {
      result = fx_mul(result, fx_const(multipliers[k]));
    }
  }
  if (integer_bits > 5 && a < fx_const(-(1 << (36 - integer_bits)))) result = 0;
  return a == 0 ? INT16_MAX : result;
}

/* Newton-Raphson in Q2.13 shared by 1/(1+x) and (1-x)/(1+x), x in [0, 1] Q0.15. */
static int16_t fx_reciprocal_half(int16_t a, int16_t *half_denominator) {
  const int32_t sum = (int32_t)a + INT16_MAX;
  const int16_t hd = (int16_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int16_t one = 1 << 13;
  int16_t x = fx_wrap((int32_t)fx_const(1515870810) + fx_mul(hd, fx_const(-1010580540)));
  int i;
  for (i = 0; i < 3; i++) {
    const int16_t one_minus = fx_wrap((int32_t)one - fx_mul(hd, x));
    x = fx_wrap((int32_t)x + fx_sat_shl(fx_mul(x, one_minus), 2));
  }
  *half_denominator = hd;
  return x;
}

/* gemmlowp::logistic on FixedPoint<int16_t, 3> (Q3.12) -> Q0.15. */
static int16_t fx_logistic_q3(int16_t a) {
  int16_t hd;
  int16_t positive;
  const int16_t abs_a = a > 0 ? a : fx_wrap(-(int32_t)a);
  if (a == 0) return 1 << 14;
  positive = fx_sat_shl(fx_reciprocal_half(fx_exp_negative(fx_wrap(-(int32_t)abs_a), 3), &hd), 1);
  return a > 0 ? positive : fx_wrap((int32_t)INT16_MAX - positive);
}

/* gemmlowp::tanh on FixedPoint<int16_t, integer_bits> -> Q0.15. */
static int16_t fx_tanh(int16_t a, int integer_bits) {
  int16_t hd;
  int16_t t;
  const int16_t n = a < 0 ? a : fx_wrap(-(int32_t)a);
  if (a == 0) return 0;
  t = fx_reciprocal_half(fx_exp_negative(n, integer_bits + 1), &hd);
  t = fx_sat_shl(fx_wrap((int32_t)t - (1 << 13)), 2);
  return a < 0 ? fx_wrap(-(int32_t)t) : t;
}

/* gate[c] (int16) += sat16(MBQM(bias[c] + sum_k w[c][k] * v[k])), saturated to int16. */
static void gate_accumulate(const int8_t *v, int32_t n, const int8_t *w, const int32_t *bias, int32_t multiplier,
                            int32_t shift, int32_t cells, int16_t *gate) {
  int32_t c;
  int32_t k;
  for (c = 0; c < cells; c++) {
    int32_t acc = bias[c];
    const int8_t *row = w + (size_t)c * (size_t)n;
    for (k = 0; k < n; k++) acc += (int32_t)v[k] * (int32_t)row[k];
    acc = kiln_mbqm(acc, multiplier, (int)shift) + gate[c];
    gate[c] = (int16_t)kiln_clamp_i32(acc, INT16_MIN, INT16_MAX);
  }
}

/* TFLite's portable ApplyLayerNorm on one batch row of a gate, in place: mean and variance in 2^10 and 2^20
 * units (a variance under 1 replaced by the guard), 1/sqrt(variance) as a multiplier, each value
 * normalized, times its int16 coefficient plus the (int32) gate bias in 32-bit arithmetic (it wraps, as the
 * reference's int), rounded /1024 and rescaled to Q3.12 by the coefficients' scale x 2^12. */
static void layer_norm(int16_t *gate, const int16_t *weights, const int32_t *bias, int32_t multiplier, int32_t shift,
                       int32_t variance_guard, int32_t n) {
  const int64_t two_to_20 = (int64_t)1 << 20;
  int64_t sum = 0;
  int64_t sum_sq = 0;
  int32_t mean;
  int32_t variance;
  int32_t inv_multiplier;
  int32_t inv_shift;
  int32_t j;
  for (j = 0; j < n; j++) {
    const int32_t v = gate[j];
    sum += v;
    sum_sq += v * v;
  }
  mean = (int32_t)(sum * 1024 / n);
  variance = (int32_t)((sum_sq * (two_to_20 / n) - (int64_t)mean * (int64_t)mean) / two_to_20);
  if (variance < 1) variance = variance_guard;
  kiln_inv_sqrt_multiplier(variance, &inv_multiplier, &inv_shift);
  for (j = 0; j < n; j++) {
    const int32_t rescaled = kiln_mbqm(1024 * (int32_t)gate[j] - mean, inv_multiplier, (int)inv_shift);
    const int64_t v3 = (int32_t)((uint32_t)rescaled * (uint32_t)(int32_t)weights[j] + (uint32_t)bias[j]);
    const int32_t v4 = (int32_t)((v3 > 0 ? v3 + 512 : v3 - 512) / 1024);
    gate[j] = (int16_t)kiln_clamp_i32(kiln_mbqm(v4, multiplier, (int)shift + 12), INT16_MIN, INT16_MAX);
  }
}

/* One gate for the nb batch rows processed together: int16 pre-activation (input, recurrent, peephole parts,
 * each rescaled and saturated in turn, as TFLite), layer norm if any, then sigmoid (the cell gate: tanh) to
 * Q0.15. The peephole runs as TFLite's VectorBatchVectorCwiseProductAccumulate with the output width as its
 * vector size: over the first nb * outputs values of the gate and cell state, weight k % outputs (the same
 * as per cell unless a projection narrows the output). */
static void lstm_gate(const kiln_lstm8_params *p, int g, int32_t nb, const int8_t *x, const int8_t *h,
                      const int8_t *const input_weights[4], const int8_t *const recurrent_weights[4],
                      const int32_t *const input_bias[4], const int32_t *const recurrent_bias[4],
                      const int16_t *const peephole[4], const int16_t *const layer_norm_weights[4],
                      const int32_t *const layer_norm_bias[4], const int16_t *cs, int16_t *gate) {
  const int32_t cells = p->cells;
  int32_t b;
  int32_t c;
  for (c = 0; c < nb * cells; c++) gate[c] = 0;
  for (b = 0; b < nb; b++) {
    gate_accumulate(x + (size_t)b * (size_t)p->inputs, p->inputs, input_weights[g], input_bias[g],
                    p->input_multiplier[g], p->input_shift[g], cells, gate + (size_t)b * (size_t)cells);
    gate_accumulate(h + (size_t)b * (size_t)p->outputs, p->outputs, recurrent_weights[g], recurrent_bias[g],
                    p->recurrent_multiplier[g], p->recurrent_shift[g], cells, gate + (size_t)b * (size_t)cells);
  }
  if (peephole != NULL && peephole[g] != NULL) {
    for (c = 0; c < nb * p->outputs; c++) {
      const int32_t v = kiln_mbqm((int32_t)peephole[g][c % p->outputs] * cs[c], p->peephole_multiplier[g],
                                  (int)p->peephole_shift[g]) + gate[c];
      gate[c] = (int16_t)kiln_clamp_i32(v, INT16_MIN, INT16_MAX);
    }
  }
  if (layer_norm_weights != NULL && layer_norm_weights[g] != NULL) {
    for (b = 0; b < nb; b++) {
      layer_norm(gate + (size_t)b * (size_t)cells, layer_norm_weights[g], layer_norm_bias[g],
                 p->layer_norm_multiplier[g], p->layer_norm_shift[g], p->variance_guard[g], cells);
    }
  }
  for (c = 0; c < nb * cells; c++) gate[c] = g == 2 ? fx_tanh(gate[c], 3) : fx_logistic_q3(gate[c]);
}

void kiln_sequence_lstm_s8(const kiln_lstm8_params *p, const int8_t *input, const int8_t *const input_weights[4],
                           const int8_t *const recurrent_weights[4], const int32_t *const input_bias[4],
                           const int32_t *const recurrent_bias[4], const int16_t *const peephole[4],
                           const int16_t *const layer_norm_weights[4], const int32_t *const layer_norm_bias[4],
                           const int8_t *projection_weights, const int32_t *projection_bias, int8_t *output_state,
                           int16_t *cell_state, int8_t *output, int16_t *scratch) {
  const int32_t cells = p->cells;
  const int32_t outputs = p->outputs;
  /* as TFLite: time-major runs every batch row through each step together, batch-major one row at a time */
  const int32_t nb = p->time_major ? p->batches : 1;
  const size_t group = (size_t)nb * (size_t)cells;
  int8_t *const hidden = (int8_t *)(scratch + 4 * group);
  const int cell_shift = (int)(30 + p->cell_log2);
  int16_t *gates[4];
  int32_t t;
  int32_t b0;
  int32_t b;
  int32_t c;
  int g;
  for (g = 0; g < 4; g++) gates[g] = scratch + (size_t)g * group;
  for (b0 = 0; b0 < p->batches; b0 += nb) {
    int8_t *h = output_state + (size_t)b0 * (size_t)outputs;
    int16_t *cs = cell_state + (size_t)b0 * (size_t)cells;
    for (t = 0; t < p->steps; t++) {
      const int32_t row = p->time_major ? t * p->batches : b0 * p->steps + t;
      const int8_t *x = input + (size_t)row * (size_t)p->inputs;
      int8_t *y = output + (size_t)row * (size_t)outputs;
      /* input, forget and cell gates see the old cell state (peephole), the output gate the new one */
      for (g = p->cifg ? 1 : 0; g < 3; g++) {
        lstm_gate(p, g, nb, x, h, input_weights, recurrent_weights, input_bias, recurrent_bias, peephole,
                  layer_norm_weights, layer_norm_bias, cs, gates[g]);
      }
      for (c = 0; c < nb * cells; c++) {
        const int16_t forget = gates[1][c];
        const int16_t in_gate = p->cifg ? (int16_t)(INT16_MAX - forget) : gates[0][c];
        const int16_t kept = fx_wrap(kiln_rdbpot((int32_t)forget * cs[c], 15));
        const int16_t added = fx_wrap(kiln_rdbpot((int32_t)in_gate * gates[2][c], cell_shift));
        int32_t next = kiln_clamp_i32((int32_t)kept + added, INT16_MIN, INT16_MAX);
        if (p->cell_clip > 0) next = kiln_clamp_i32(next, -p->cell_clip, p->cell_clip);
        cs[c] = (int16_t)next;
      }
      lstm_gate(p, 3, nb, x, h, input_weights, recurrent_weights, input_bias, recurrent_bias, peephole,
                layer_norm_weights, layer_norm_bias, cs, gates[3]);
      for (c = 0; c < nb * cells; c++) {
        const int16_t tanh_cell = fx_tanh(cs[c], (int)(15 + p->cell_log2));
        const int32_t v = kiln_mbqm((int32_t)gates[3][c] * tanh_cell, p->hidden_multiplier, (int)p->hidden_shift)
                          + p->hidden_zero_point;
        hidden[c] = (int8_t)kiln_clamp_i32(v, INT8_MIN, INT8_MAX);
      }
      if (projection_weights == NULL) {
        for (c = 0; c < nb * cells; c++) h[c] = hidden[c];
      } else {
        int32_t k;
        for (b = 0; b < nb; b++) {
          for (c = 0; c < outputs; c++) {
            const int8_t *prow = projection_weights + (size_t)c * (size_t)cells;
            const int8_t *hid = hidden + (size_t)b * (size_t)cells;
            int32_t acc = projection_bias[c];
            for (k = 0; k < cells; k++) acc += (int32_t)hid[k] * (int32_t)prow[k];
            acc = kiln_mbqm(acc, p->projection_multiplier, (int)p->projection_shift) + p->output_state_zero_point;
            acc = kiln_clamp_i32(acc, INT8_MIN, INT8_MAX);
            if (p->projection_clip > 0) acc = kiln_clamp_i32(acc, -p->projection_clip, p->projection_clip);
            h[b * outputs + c] = (int8_t)acc;
          }
        }
      }
      for (c = 0; c < nb * outputs; c++) y[c] = h[c];
    }
  }
}
