package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM, TFLite's 8x8_16 scheme (kiln_sequence_lstm_s8): int8 input,
 * output and output state, int8 per-tensor symmetric weights, int32 gate biases, int16 cell state at a
 * power-of-two scale, and the 5 operator intermediates the converter attaches. Prepare as TFLite 2.21's
 * PopulateQuantizedLstmParams8x8_16 does it, in float32: gate pre-activations in Q3.12 (2^-12; the gate
 * intermediates' own scales only matter with layer norm), effective scale weight x input (or output
 * state) scale / 2^-12, hidden scale 2^-15 / hidden intermediate scale x 2^-15, zero point x weight row
 * sums folded into the biases; a projection (with or without bias, proj_clip) maps the int8 hidden
 * state (the hidden intermediate's quantization) to the output state; int16 peephole weights add
 * cell state x weight at 2^cell_log2 x weight scale / 2^-12 (with a projection TFLite sizes the peephole by
 * the output width, see kiln_lstm8.h). Layer norm (int16 coefficients, inputs 20-23): the gate intermediates'
 * scales replace 2^-12, the gate bias moves from the matmul into the normalization (ApplyLayerNorm), the
 * coefficients' scale and a variance guard of max(1, (int)(10000 x that scale)) come along. Refused with a
 * reason: a peephole with a projection wider than the cells (TFLite reads past the peephole weights), the 8x8_8
 * form (12 intermediates), per-channel weights.
 */
final class Lstm8Emitter implements KernelEmitter {
  private static final float GATE_SCALE = 1f / 4096f;

  private record Layout(Tensor in, Tensor[] w, Tensor[] r, Tensor[] b, Tensor[] peep, Tensor[] norm, float[] gateScale,
                        Tensor h, Tensor c, Tensor out, boolean cifg,
                        int batches, int steps, int inputs, int cells, int outputs, int cellLog2, Quantization hidden,
                        Tensor proj, Tensor projBias) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    if (o.activation() != Activation.TANH) {
      throw unsupported(op, "has cell activation " + o.activation() + "; TFLite's integer LSTM (and Kiln) use TANH");
    }
    if (o.intermediates().size() != 5) {
      throw unsupported(op, "has " + o.intermediates().size() + " intermediate tensors; Kiln compiles TFLite's 8x8_16 "
          + "integer LSTM, which has 5 (the 8x8_8 form with 12 is not done; re-convert with TFLite 2.x full-integer "
          + "quantization)");
    }
    Quantization hidden = o.intermediates().get(4);
    if (!hidden.isQuantized() || hidden.isPerChannel()) {
      throw unsupported(op, "its hidden-state intermediate (intermediate 4) has no per-tensor quantization; the model "
          + "was not converted by TFLite's full-integer quantizer");
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
    Tensor proj = op.input(16);
    Tensor projBias = op.input(17);
    if (proj == null && projBias != null) throw unsupported(op, "has a projection bias (input 17) but no projection weights");
    Tensor[] peep = {op.input(9), op.input(10), null, op.input(11)};
    boolean peephole = peep[1] != null || peep[3] != null || peep[0] != null;
    if (peephole) {
      if (peep[1] == null || peep[3] == null || (peep[0] == null) != cifg) {
        throw unsupported(op, "has peephole weights for some gates only (inputs 9-11); TFLite needs all of them (the "
            + "input gate's only without CIFG)");
      }
      if (proj != null && proj.rank() == 2 && proj.dim(0) > w[1].dim(0)) {
        throw unsupported(op, "combines peephole weights with a projection wider than the cells (" + proj.dim(0) + " > "
            + w[1].dim(0) + "); TFLite's integer kernel sizes the peephole by the output width and reads past the "
            + "peephole weights there, so there is nothing to match: narrow the projection or drop the peephole");
      }
      for (int g : new int[] {0, 1, 3}) {
        if (peep[g] == null) continue;
        if (peep[g].dtype() != DType.INT16 || !peep[g].isConstant() || peep[g].elements() != w[1].dim(0)) {
          throw unsupported(op, "its " + LstmOperands.GATES[g] + " peephole weights are not constant int16 [cells]; TFLite's integer "
              + "LSTM needs them so");
        }
        requirePerTensor(op, peep[g]);
      }
    }
    Tensor[] norm = {op.input(20), op.input(21), op.input(22), op.input(23)};
    boolean layerNorm = norm[1] != null || norm[2] != null || norm[3] != null || norm[0] != null;
    float[] gateScale = {GATE_SCALE, GATE_SCALE, GATE_SCALE, GATE_SCALE};
    if (layerNorm) {
      if (norm[1] == null || norm[2] == null || norm[3] == null || (norm[0] == null) != cifg) {
        throw unsupported(op, "has layer-norm coefficients for some gates only (inputs 20-23); TFLite needs all of them "
            + "(the input gate's only without CIFG)");
      }
      for (int g = cifg ? 1 : 0; g < 4; g++) {
        if (norm[g].dtype() != DType.INT16 || !norm[g].isConstant() || norm[g].elements() != w[1].dim(0)) {
          throw unsupported(op, "its " + LstmOperands.GATES[g] + " layer-norm coefficients are not constant int16 [cells]; "
              + "TFLite's integer LSTM needs them so");
        }
        requirePerTensor(op, norm[g]);
        // with layer norm TFLite reads each gate's pre-activation scale from its intermediate (0-3)
        Quantization q = o.intermediates().get(g);
        if (!q.isQuantized() || q.isPerChannel() || q.zeroPoint() != 0) {
          throw unsupported(op, "has layer norm but its " + LstmOperands.GATES[g] + " gate intermediate (intermediate " + g
              + ") has no per-tensor quantization with zero point 0; TFLite's layer-norm LSTM reads the gate's scale there");
        }
        gateScale[g] = q.scale();
      }
    }
    boolean dtypesOk = in.dtype() == DType.INT8 && out.dtype() == DType.INT8 && h.dtype() == DType.INT8
        && c.dtype() == DType.INT16;
    for (int g = cifg ? 1 : 0; g < 4; g++) {
      dtypesOk &= w[g].dtype() == DType.INT8 && r[g].dtype() == DType.INT8 && b[g].dtype() == DType.INT32;
    }
    if (proj != null) {
      dtypesOk &= proj.dtype() == DType.INT8 && (projBias == null || projBias.dtype() == DType.INT32);
      requirePerTensor(op, proj);
      if (!proj.isConstant() || (projBias != null && !projBias.isConstant())) {
        throw unsupported(op, "its projection weights or bias are not constants; Kiln folds them at compile time");
      }
    }
    if (!dtypesOk) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not TFLite's 8x8_16 integer LSTM (int8 input, output, "
          + "weights and output state, int16 cell state, int32 biases); hybrid LSTMs are not done");
    }
    for (Tensor t : new Tensor[] {in, out, h, c}) requirePerTensor(op, t);
    for (int g = cifg ? 1 : 0; g < 4; g++) {
      requirePerTensor(op, w[g]);
      requirePerTensor(op, r[g]);
      if (!w[g].isConstant() || !r[g].isConstant() || !b[g].isConstant()) {
        throw unsupported(op, "the " + LstmOperands.GATES[g] + " gate's weights or bias are not constants; Kiln folds them at "
            + "compile time");
      }
    }
    if (c.quantization().zeroPoint() != 0) {
      throw unsupported(op, "its cell state has zero point " + c.quantization().zeroPoint() + "; TFLite requires 0");
    }
    float cs = c.quantization().scale();
    int cellLog2 = Math.getExponent(cs);
    if (cs != Math.scalb(1f, cellLog2) || cellLog2 < -15 || cellLog2 > -9) {
      throw unsupported(op, "its cell state scale " + cs + " is not a power of two in [2^-15, 2^-9], as TFLite's "
          + "integer LSTM needs");
    }
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
    }
    if (h.elements() != (long) batches * outputs || c.elements() != (long) batches * cells
        || out.elements() != (long) batches * steps * outputs) {
      throw unsupported(op, "states " + shape(h) + ", " + shape(c) + " and output " + shape(out) + " do not fit " + batches
          + " batches, " + steps + " steps and " + cells + " cells");
    }
    return new Layout(in, w, r, b, peep, layerNorm ? norm : new Tensor[4], gateScale, h, c, out, cifg, batches, steps, inputs, cells, outputs, cellLog2, hidden, proj,
        projBias);
  }

  private static void requirePerTensor(Op op, Tensor t) {
    if (!t.quantization().isQuantized() || t.quantization().isPerChannel()) {
      throw unsupported(op, "tensor '" + t.name() + "' is not quantized per tensor; TFLite's integer LSTM needs one "
          + "scale and zero point per tensor");
    }
  }

  @Override public void check(Op op) { layout(op); }

  @Override public int scratchBytes(Op op) {
    Layout l = layout(op);
    // time-major steps every batch row together (as TFLite), batch-major one row at a time
    boolean timeMajor = op.options(Options.SequenceLstm.class).timeMajor();
    return 9 * l.cells * (timeMajor ? l.batches : 1);
  }

  /** bias[c] + zeroPoint * sum_k weights[c][k] (TFLite's PrecomputeZeroPointTimesWeightWithBias). */
  private static int[] foldedBias(Tensor weights, Tensor bias, int zeroPoint, int rows, int cols) {
    byte[] wd = weights.data();
    int[] out = new int[rows];
    if (bias != null) {
      ByteBuffer bb = ByteBuffer.wrap(bias.data()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < rows; i++) out[i] = bb.getInt(4 * i);
    }
    for (int i = 0; i < rows; i++) {
      int sum = 0;
      for (int k = 0; k < cols; k++) sum += wd[i * cols + k];
      out[i] += sum * zeroPoint;
    }
    return out;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.SequenceLstm o = op.options(Options.SequenceLstm.class);
    float inScale = l.in.quantization().scale();
    float hScale = l.h.quantization().scale();
    int[] inMult = new int[4];
    int[] inShift = new int[4];
    int[] recMult = new int[4];
    int[] recShift = new int[4];
    String[] wIn = {"NULL", "NULL", "NULL", "NULL"};
    String[] wRec = {"NULL", "NULL", "NULL", "NULL"};
    String[] bIn = {"NULL", "NULL", "NULL", "NULL"};
    String[] bRec = {"NULL", "NULL", "NULL", "NULL"};
    String[] peep = {"NULL", "NULL", "NULL", "NULL"};
    int[] peepMult = new int[4];
    int[] peepShift = new int[4];
    for (int g = 0; g < 4; g++) {
      if (l.peep[g] == null) continue;
      // TFLite: std::pow(2, cell_scale) (double) * weight scale / intermediate scale, stored as float
      float e = (float) (Math.pow(2, l.cellLog2) * (double) l.peep[g].quantization().scale() / (double) l.gateScale[g]);
      FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(e);
      peepMult[g] = m.multiplier();
      peepShift[g] = m.shift();
      peep[g] = ctx.data(l.peep[g]);
    }
    String[] norm = {"NULL", "NULL", "NULL", "NULL"};
    String[] normBias = {"NULL", "NULL", "NULL", "NULL"};
    int[] normMult = new int[4];
    int[] normShift = new int[4];
    int[] varianceGuard = new int[4];
    for (int g = l.cifg ? 1 : 0; g < 4; g++) {
      // float32 throughout, as TFLite: (weight scale * input scale) / intermediate scale
      FixedPoint.Multiplier mi = FixedPoint.quantizeMultiplier(l.w[g].quantization().scale() * inScale / l.gateScale[g]);
      FixedPoint.Multiplier mr = FixedPoint.quantizeMultiplier(l.r[g].quantization().scale() * hScale / l.gateScale[g]);
      inMult[g] = mi.multiplier();
      inShift[g] = mi.shift();
      recMult[g] = mr.multiplier();
      recShift[g] = mr.shift();
      wIn[g] = ctx.data(l.w[g]);
      wRec[g] = ctx.data(l.r[g]);
      // with layer norm the gate bias is added after the normalization, not to the matmul (TFLite's Prepare)
      bIn[g] = ctx.tableI32("lstm8_" + LstmOperands.GATES[g] + "_bias",
          foldedBias(l.w[g], l.norm[g] == null ? l.b[g] : null, -l.in.quantization().zeroPoint(), l.cells, l.inputs));
      if (l.norm[g] != null) {
        float s = l.norm[g].quantization().scale();
        FixedPoint.Multiplier mn = FixedPoint.quantizeMultiplier(s);
        normMult[g] = mn.multiplier();
        normShift[g] = mn.shift();
        varianceGuard[g] = Math.max(1, (int) (10000 * s));
        norm[g] = ctx.data(l.norm[g]);
        normBias[g] = ctx.data(l.b[g]);
      }
      bRec[g] = ctx.tableI32("lstm8_" + LstmOperands.GATES[g] + "_recurrent_bias",
          foldedBias(l.r[g], null, -l.h.quantization().zeroPoint(), l.cells, l.outputs));
    }
    float hiddenScale = (float) (Math.pow(2, -15) / (double) l.hidden.scale() * Math.pow(2, -15));
    FixedPoint.Multiplier mh = FixedPoint.quantizeMultiplier(hiddenScale);
    int cellClip = 0;
    if (o.cellClip() > 0) {
      cellClip = (int) Math.min(Math.max(o.cellClip() / l.c.quantization().scale(), -32768f), 32767f);
    }
    String projWeights = "NULL";
    String projBias = "NULL";
    FixedPoint.Multiplier mp = new FixedPoint.Multiplier(0, 0);
    int projClip = 0;
    if (l.proj != null) {
      // TFLite: projection weight scale * hidden intermediate scale / output state scale, in float32
      mp = FixedPoint.quantizeMultiplier(l.proj.quantization().scale() * l.hidden.scale() / hScale);
      projWeights = ctx.data(l.proj);
      projBias = ctx.tableI32("lstm8_projection_bias", foldedBias(l.proj, l.projBias, -l.hidden.zeroPoint(), l.outputs,
          l.cells));
      if (o.projClip() > 0) projClip = (int) Math.min(Math.max(o.projClip() / hScale, -128f), 127f);
    }
    NnSupport.Init init = new NnSupport.Init().put("batches", l.batches).put("steps", l.steps).put("inputs", l.inputs)
        .put("cells", l.cells).put("outputs", l.outputs).put("time_major", o.timeMajor() ? 1 : 0).put("cifg", l.cifg ? 1 : 0)
        .put("cell_log2", l.cellLog2).put("cell_clip", cellClip)
        .raw("input_multiplier", ints(inMult)).raw("input_shift", ints(inShift))
        .raw("recurrent_multiplier", ints(recMult)).raw("recurrent_shift", ints(recShift))
        .raw("peephole_multiplier", ints(peepMult)).raw("peephole_shift", ints(peepShift))
        .raw("layer_norm_multiplier", ints(normMult)).raw("layer_norm_shift", ints(normShift))
        .raw("variance_guard", ints(varianceGuard))
        .put("hidden_multiplier", mh.multiplier()).put("hidden_shift", mh.shift())
        .put("hidden_zero_point", l.hidden.zeroPoint())
        .put("projection_multiplier", mp.multiplier()).put("projection_shift", mp.shift())
        .put("projection_clip", projClip).put("output_state_zero_point", l.h.quantization().zeroPoint());
    String params = ctx.constant("kiln_lstm8_params", "lstm8", init.toString());
    ctx.body().line("{");
    ctx.body().line("  const int8_t *const w[4] = {" + String.join(", ", wIn) + "};");
    ctx.body().line("  const int8_t *const r[4] = {" + String.join(", ", wRec) + "};");
    ctx.body().line("  const int32_t *const bi[4] = {" + String.join(", ", bIn) + "};");
    ctx.body().line("  const int32_t *const br[4] = {" + String.join(", ", bRec) + "};");
    ctx.body().line("  const int16_t *const pw[4] = {" + String.join(", ", peep) + "};");
    ctx.body().line("  const int16_t *const ln[4] = {" + String.join(", ", norm) + "};");
    ctx.body().line("  const int32_t *const lb[4] = {" + String.join(", ", normBias) + "};");
    ctx.body().line(NnSupport.format("  kiln_sequence_lstm_s8(&%s, %s, w, r, bi, br, pw, ln, lb, %s, %s, %s, %s, %s, (int16_t *)%s);",
        params, ctx.data(l.in), projWeights, projBias, ctx.data(l.h), ctx.data(l.c), ctx.data(l.out), ctx.scratch()));
    ctx.body().line("}");
  }

  private static String ints(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(dev.kiln.codegen.CLiterals.i32(v[i]));
    return sb.append('}').toString();
  }
}
