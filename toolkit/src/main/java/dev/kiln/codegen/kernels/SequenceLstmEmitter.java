package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM float32 (TFLite's lstm_eval EvalFloat, see kiln_sequence_lstm_f32),
 * with or without CIFG, batch-major or time-major, with cell clipping. Output state (input 18) and
 * cell state (input 19) must be variable tensors: static buffers that start at zero and carry from
 * one run to the next, as in TFLite and TFLite Micro. Refused with a reason: peephole, projection and
 * layer-norm weights, a cell activation other than TANH, int8 and hybrid LSTMs.
 */
final class SequenceLstmEmitter implements KernelEmitter {

  private record Layout(Tensor in, Tensor[] w, Tensor[] r, Tensor[] b, Tensor h, Tensor c, Tensor out, boolean cifg,
                        int batches, int steps, int inputs, int cells) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    if (o.activation() != Activation.TANH) {
      throw unsupported(op, "has cell activation " + o.activation() + "; Kiln compiles the TANH cell activation converters write");
    }
    int[][] refused = {{9, 10, 11}, {16, 17}, {20, 21, 22, 23}};
    String[] what = {"peephole (cell-to-gate) weights", "a projection", "layer normalization"};
    for (int k = 0; k < refused.length; k++) {
      for (int i : refused[k]) {
        if (op.input(i) != null) throw unsupported(op, "uses " + what[k] + " (input " + i + "); Kiln's LSTM does not");
      }
    }
    LstmOperands operands = LstmOperands.of(op);
    Tensor in = operands.input();
    Tensor[] w = operands.inputWeights();
    Tensor[] r = operands.recurrentWeights();
    Tensor[] b = operands.biases();
    boolean cifg = operands.cifg();
    Tensor h = operands.outputState();
    Tensor c = operands.cellState();
    Tensor out = op.output();
    for (Tensor t : op.inputs()) {
      if (t != null && t.dtype() != DType.FLOAT32) {
        // family: dtypes (tfl-dtypes): say which of TFLite's non-float LSTMs this is
        String kind = in.dtype() == DType.FLOAT32
            ? "a hybrid LSTM (float32 activations, quantized weights), which TFLite Micro does not run either; convert "
                + "without Optimize.DEFAULT to keep float32 weights"
            : "a quantized LSTM with " + in.dtype() + " activations; Kiln compiles float32 LSTMs and the full-integer"
                + " form with int8 activations (TFLite's 8x8_16): convert with int8 activations or as float32";
        throw unsupported(op, "dtypes " + dtypes(op) + " are not supported: this is " + kind);
      }
    }
    if (out.dtype() != DType.FLOAT32) throw unsupported(op, "the output is " + out.dtype() + "; Kiln compiles float32 LSTMs");
    operands.requireStateVariables(op);
    NnSupport.requireRank(op, in, "the input", 3);
    boolean timeMajor = o.timeMajor();
    int steps = timeMajor ? in.dim(0) : in.dim(1);
    int batches = timeMajor ? in.dim(1) : in.dim(0);
    int inputs = in.dim(2);
    int cells = w[1].dim(0);
    for (int g = cifg ? 1 : 0; g < 4; g++) {
      if (w[g].rank() != 2 || w[g].dim(0) != cells || w[g].dim(1) != inputs || r[g].rank() != 2 || r[g].dim(0) != cells
          || r[g].dim(1) != cells || b[g].elements() != cells) {
        throw unsupported(op, "the " + LstmOperands.GATES[g] + " gate's weights " + shape(w[g]) + ", " + shape(r[g]) + " and bias "
            + shape(b[g]) + " do not fit " + inputs + " inputs and " + cells + " cells");
      }
    }
    if (h.elements() != (long) batches * cells || c.elements() != (long) batches * cells
        || out.elements() != (long) batches * steps * cells) {
      throw unsupported(op, "states " + shape(h) + ", " + shape(c) + " and output " + shape(out) + " do not fit " + batches
          + " batches, " + steps + " steps and " + cells + " cells");
    }
    return new Layout(in, w, r, b, h, c, out, cifg, batches, steps, inputs, cells);
  }

  @Override public void check(Op op) { layout(op); }

  @Override public int scratchBytes(Op op) { return 16 * layout(op).cells; }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    NnSupport.Init init = new NnSupport.Init().put("batches", l.batches).put("steps", l.steps).put("inputs", l.inputs)
        .put("cells", l.cells).put("time_major", o.timeMajor() ? 1 : 0).put("cifg", l.cifg ? 1 : 0)
        .put("cell_clip", o.cellClip());
    String params = ctx.constant("kiln_lstm_params", "lstm", init.toString());
    StringBuilder w = new StringBuilder();
    StringBuilder r = new StringBuilder();
    StringBuilder b = new StringBuilder();
    for (int g = 0; g < 4; g++) {
      String sep = g == 0 ? "" : ", ";
      w.append(sep).append(l.w[g] == null ? "NULL" : ctx.data(l.w[g]));
      r.append(sep).append(l.r[g] == null ? "NULL" : ctx.data(l.r[g]));
      b.append(sep).append(l.b[g] == null ? "NULL" : ctx.data(l.b[g]));
    }
    ctx.body().line("{");
    ctx.body().line("  const float *const w[4] = {" + w + "};");
    ctx.body().line("  const float *const r[4] = {" + r + "};");
    ctx.body().line("  const float *const b[4] = {" + b + "};");
    ctx.body().line(NnSupport.format("  kiln_sequence_lstm_f32(&%s, %s, w, r, b, %s, %s, %s, (float *)%s);", params,
        ctx.data(l.in), ctx.data(l.h), ctx.data(l.c), ctx.data(l.out), ctx.scratch()));
    ctx.body().line("}");
  }
}
