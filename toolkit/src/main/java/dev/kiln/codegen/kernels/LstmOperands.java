package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/**
 * The operands of a TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, read once for the float and the full-integer
 * emitter: the input, per gate (input, forget, cell, output) its input and recurrent weights and bias
 * (the input gate's absent under CIFG), and the two state variables.
 */
record LstmOperands(Tensor input, Tensor[] inputWeights, Tensor[] recurrentWeights, Tensor[] biases, boolean cifg,
                    Tensor outputState, Tensor cellState) {
  static final String[] GATES = {"input", "forget", "cell", "output"};

  static LstmOperands of(Op op) {
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor[] w = new Tensor[4];
    Tensor[] r = new Tensor[4];
    Tensor[] b = new Tensor[4];
    boolean cifg = op.input(1) == null;
    for (int g = cifg ? 1 : 0; g < 4; g++) {
      w[g] = NnSupport.requireInput(op, 1 + g, "input-to-" + GATES[g] + " weights");
      r[g] = NnSupport.requireInput(op, 5 + g, "recurrent-to-" + GATES[g] + " weights");
      b[g] = NnSupport.requireInput(op, 12 + g, GATES[g] + " gate bias");
    }
    if (cifg && (op.input(5) != null || op.input(12) != null)) {
      throw unsupported(op, "has no input-to-input weights but has recurrent-to-input weights or an input gate bias");
    }
    return new LstmOperands(in, w, r, b, cifg, NnSupport.requireInput(op, 18, "output state"),
        NnSupport.requireInput(op, 19, "cell state"));
  }

  /** The output and cell state must be variable tensors: that is where Kiln keeps them between runs. */
  void requireStateVariables(Op op) {
    for (Tensor s : new Tensor[] {outputState, cellState}) {
      if (!s.isVariable()) {
        throw unsupported(op, "its state '" + s.name() + "' is not a variable tensor; Kiln keeps LSTM state in variables");
      }
    }
  }
}
