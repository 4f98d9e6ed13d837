/*
 * Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM, TFLite's "8x8_16" scheme (family lstm8): int8 input,
 * output and output state, int8 symmetric weights, int32 gate biases, int16 cell state at a
 * power-of-two scale. Reproduces TensorFlow Lite 2.21's integer LSTM (lstm_eval's
 * EvalInteger8x8_16, portable tensor utils), bit-exact: gate pre-activations are int16 in Q3.12,
 * sigmoid and tanh are gemmlowp's 16-bit fixed-point functions, the cell update works in the cell
 * state's Q(15+cell_log2) format. Kiln computes Prepare in Java (effective multipliers, zero point
 * times weight row sums folded into the biases, quantized cell clip). No allocation, no libm.
 */
#ifndef KILN_LSTM8_H
#define KILN_LSTM8_H

#include <stdint.h>

typedef struct {
  int32_t batches;
  int32_t steps;
  int32_t inputs;
  int32_t cells;
  int32_t outputs;        /* output state width: cells, or the projection's rows */
  int32_t time_major;
  int32_t cifg;           /* 1: no input gate, input gate = 1 - forget gate */
  int32_t cell_log2;      /* cell state scale = 2^cell_log2, -15 < cell_log2 <= -11 (TFLite's checks) */
  int32_t cell_clip;      /* quantized cell clip, 0: none */
  int32_t input_multiplier[4];     /* per gate (input, forget, cell, output): input x weights -> Q3.12 */
  int32_t input_shift[4];
  int32_t recurrent_multiplier[4]; /* output state x recurrent weights -> Q3.12 */
  int32_t recurrent_shift[4];
  int32_t peephole_multiplier[4];  /* cell state x cell-to-gate weights (int16) -> Q3.12; cell gate unused */
  int32_t peephole_shift[4];
  int32_t layer_norm_multiplier[4]; /* the layer-norm coefficients' scale (x 2^12 in the kernel) */
  int32_t layer_norm_shift[4];
  int32_t variance_guard[4];         /* max(1, (int)(10000 * coefficients' scale)): a variance under 1 becomes it */
  int32_t hidden_multiplier;       /* output gate (Q0.15) x tanh(cell) (Q0.15) -> int8 hidden */
  int32_t hidden_shift;
  int32_t hidden_zero_point;
  int32_t projection_multiplier;   /* hidden (int8) x projection weights -> output state */
  int32_t projection_shift;
  int32_t projection_clip;         /* quantized proj_clip, 0: none */
  int32_t output_state_zero_point;
} kiln_lstm8_params;

/*
 * One invocation over the whole sequence. input_bias[g] = gate bias - input zero point * row sums
 * of the input weights; recurrent_bias[g] = -output state zero point * row sums of the recurrent
 * weights (both precomputed). Gate g absent (CIFG: g = 0): NULL. peephole[g]: the int16
 * cell-to-gate weights of gates 0, 1, 3 (peephole NULL or peephole[g] NULL: none; TFLite takes the
 * output gate's peephole from the updated cell state; TFLite's integer kernel sizes the peephole by the
 * output width: over the rows stepped together as one vector, value k gets weight k % outputs, the same
 * as per cell unless a projection narrows the output; outputs <= cells). layer_norm[g]
 * NULL (or layer_norm NULL): no layer norm; else the gate's int16 coefficients, layer_norm_bias[g] its
 * int32 gate bias, which input_bias[g] then leaves out. projection_weights NULL: no
 * projection (outputs == cells); else projection_bias = bias - hidden zero point * row sums.
 * output_state and cell_state are the state variables, updated in place; scratch holds 4 * n * cells
 * int16 followed by n * cells int8, n = batches if time-major (TFLite steps all rows together) else 1.
 */
void kiln_sequence_lstm_s8(const kiln_lstm8_params *p, const int8_t *input, const int8_t *const input_weights[4],
                           const int8_t *const recurrent_weights[4], const int32_t *const input_bias[4],
                           const int32_t *const recurrent_bias[4], const int16_t *const peephole[4],
                           const int16_t *const layer_norm[4], const int32_t *const layer_norm_bias[4],
                           const int8_t *projection_weights, const int32_t *projection_bias, int8_t *output_state,
                           int16_t *cell_state, int8_t *output, int16_t *scratch);

#endif /* KILN_LSTM8_H */
