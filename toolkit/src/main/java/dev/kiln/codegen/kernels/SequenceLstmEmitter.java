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
 * with or without CIFG, batch-major or time-major, with cell clipping, peephole (cell-to-gate) weights,
 * a projection (with or without bias, proj_clip) and layer normalization, in any combination TFLite
 * accepts, and any cell activation TFLite's ApplyActivationToVector applies. Output state (input 18) and cell state (input 19) must be variable tensors: static buffers
 * that start at zero and carry from one run to the next, as in TFLite and TFLite Micro. Refused with a
 * reason: cell activation NONE (TFLite leaves the hidden state unwritten), peephole or layer-norm weights on some gates only,
 * hybrid LSTMs.
 */
final class SequenceLstmEmitter implements KernelEmitter {

  private record Layout(Tensor in, Tensor[] w, Tensor[] r, Tensor[] b, Tensor[] peep, Tensor[] norm, Tensor proj,
                        Tensor projBias, Tensor h, Tensor c, Tensor out, boolean cifg, int batches, int steps,
                        int inputs, int cells, int outputs) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    if (o.activation() == Activation.NONE) {
      // TFLite's ApplyActivationToVector writes nothing for NONE: the hidden state would be whatever its scratch held
      throw unsupported(op, "has cell activation NONE, for which TFLite's float kernel leaves the hidden state "
          + "unwritten; use TANH (what converters write) or RELU, RELU_N1_TO_1, RELU6, SIGN_BIT");
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
    // the optional forms, per gate (input, forget, cell, output): TFLite's Prepare wants all or none of them
    Tensor[] peep = {op.input(9), op.input(10), null, op.input(11)};
    Tensor[] norm = {op.input(20), op.input(21), op.input(22), op.input(23)};
    requireAllOrNone(op, peep, new int[] {0, 1, 3}, cifg, "peephole weights (inputs 9-11)");
    requireAllOrNone(op, norm, new int[] {0, 1, 2, 3}, cifg, "layer-norm coefficients (inputs 20-23)");
    Tensor proj = op.input(16);
    Tensor projBias = op.input(17);
    if (proj == null && projBias != null) throw unsupported(op, "has a projection bias (input 17) but no projection weights");
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
    int outputs = proj == null ? cells : proj.dim(0);
    if (proj != null && (proj.rank() != 2 || proj.dim(1) != cells || (projBias != null && projBias.elements() != outputs))) {
      throw unsupported(op, "its projection " + shape(proj) + (projBias == null ? "" : " with bias " + shape(projBias))
          + " does not map " + cells + " cells to the output state");
    }
    for (int g = cifg ? 1 : 0; g < 4; g++) {
      if (w[g].rank() != 2 || w[g].dim(0) != cells || w[g].dim(1) != inputs || r[g].rank() != 2 || r[g].dim(0) != cells
          || r[g].dim(1) != outputs || b[g].elements() != cells) {
        throw unsupported(op, "the " + LstmOperands.GATES[g] + " gate's weights " + shape(w[g]) + ", " + shape(r[g]) + " and bias "
            + shape(b[g]) + " do not fit " + inputs + " inputs, " + cells + " cells and " + outputs + " outputs");
      }
      for (Tensor t : new Tensor[] {peep[g], norm[g]}) {
        if (t != null && t.elements() != cells) {
          throw unsupported(op, "the " + LstmOperands.GATES[g] + " gate's peephole or layer-norm weights " + shape(t)
              + " do not have one value per cell (" + cells + ")");
        }
      }
    }
    if (h.elements() != (long) batches * outputs || c.elements() != (long) batches * cells
        || out.elements() != (long) batches * steps * outputs) {
      throw unsupported(op, "states " + shape(h) + ", " + shape(c) + " and output " + shape(out) + " do not fit " + batches
          + " batches, " + steps + " steps, " + cells + " cells and " + outputs + " outputs");
    }
    return new Layout(in, w, r, b, peep, norm, proj, projBias, h, c, out, cifg, batches, steps, inputs, cells, outputs);
  }

  /** Peephole and layer-norm weights come for every gate that exists (the input gate's not under CIFG) or none. */
  private static void requireAllOrNone(Op op, Tensor[] perGate, int[] gates, boolean cifg, String what) {
    int present = 0;
    int expected = 0;
    for (int g : gates) {
      if (perGate[g] != null) present++;
      if (g != 0 || !cifg) expected++;
    }
    if (present != 0 && (present != expected || (cifg && perGate[0] != null))) {
      throw unsupported(op, "has " + what + " for some gates only; TFLite needs them for every gate"
          + (cifg ? " but the input gate (CIFG)" : ""));
    }
  }

  @Override public void check(Op op) { layout(op); }

  @Override public int scratchBytes(Op op) { return 20 * layout(op).cells; }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    NnSupport.Init init = new NnSupport.Init().put("batches", l.batches).put("steps", l.steps).put("inputs", l.inputs)
        .put("cells", l.cells).put("outputs", l.outputs).put("time_major", o.timeMajor() ? 1 : 0)
        .put("cifg", l.cifg ? 1 : 0).put("cell_clip", o.cellClip()).put("proj_clip", l.proj == null ? 0f : o.projClip())
        .put("activation", activationCode(o.activation()));
    String params = ctx.constant("kiln_lstm_params", "lstm", init.toString());
    StringBuilder w = new StringBuilder();
    StringBuilder r = new StringBuilder();
    StringBuilder b = new StringBuilder();
    StringBuilder pw = new StringBuilder();
    StringBuilder ln = new StringBuilder();
    for (int g = 0; g < 4; g++) {
      String sep = g == 0 ? "" : ", ";
      w.append(sep).append(data(ctx, l.w[g]));
      r.append(sep).append(data(ctx, l.r[g]));
      b.append(sep).append(data(ctx, l.b[g]));
      pw.append(sep).append(data(ctx, l.peep[g]));
      ln.append(sep).append(data(ctx, l.norm[g]));
    }
    ctx.body().line("{");
    ctx.body().line("  const float *const w[4] = {" + w + "};");
    ctx.body().line("  const float *const r[4] = {" + r + "};");
    ctx.body().line("  const float *const b[4] = {" + b + "};");
    ctx.body().line("  const float *const pw[4] = {" + pw + "};");
    ctx.body().line("  const float *const ln[4] = {" + ln + "};");
    ctx.body().line(NnSupport.format("  kiln_sequence_lstm_f32(&%s, %s, w, r, b, pw, ln, %s, %s, %s, %s, %s, (float *)%s);",
        params, ctx.data(l.in), data(ctx, l.proj), data(ctx, l.projBias), ctx.data(l.h), ctx.data(l.c), ctx.data(l.out),
        ctx.scratch()));
    ctx.body().line("}");
  }

  private static String data(KernelContext ctx, Tensor t) { return t == null ? "NULL" : ctx.data(t); }

  /** TFLite's ActivationFunctionType number, which kiln_lstm_params.activation takes. */
  private static int activationCode(Activation a) {
    return switch (a) {
      case RELU -> 1;
      case RELU_N1_TO_1 -> 2;
      case RELU6 -> 3;
      case SIGN_BIT -> 5;
      default -> 4;
    };
  }
}
