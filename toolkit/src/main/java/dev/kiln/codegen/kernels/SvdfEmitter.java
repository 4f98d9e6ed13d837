package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;

/**
 * SVDF float32 (TFLite's reference EvalFloat, see kiln_svdf_f32) and full integer (EvalIntegerSVDF,
 * kiln_svdf_s8: int8 input/output/weights_feature, int16 weights_time and state, int32 bias; the
 * two rescales are QuantizeMultiplier of s_in * s_feature / s_state and s_state * s_time / s_out in
 * double, and TFLite applies no fused activation to the int8 output). Inputs (input [B, I],
 * weights_feature [F, I], weights_time [F, M], optional bias [F / rank], state [B, F * M]). The state
 * must be a variable tensor: it lives in a static buffer that starts at zero and keeps its value
 * from one run to the next, as in TFLite Micro. Hybrid SVDF (float input, int8 weights) is refused.
 */
final class SvdfEmitter implements KernelEmitter {
  private record Layout(boolean int8, Tensor in, Tensor wf, Tensor wt, Tensor bias, Tensor state, Tensor out, int batches, int inputSize,
                        int filters, int memory, int rank, int units) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Svdf o = op.options(Options.Svdf.class);
    NnSupport.requireClampActivation(op, o.activation());
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor wf = NnSupport.requireInput(op, 1, "weights_feature");
    Tensor wt = NnSupport.requireInput(op, 2, "weights_time");
    Tensor bias = op.input(3);
    Tensor state = NnSupport.requireInput(op, 4, "activation state");
    Tensor out = op.output();
    boolean int8 = in.dtype() == DType.INT8;
    DType[] want = int8
        ? new DType[] {DType.INT8, DType.INT8, DType.INT16, DType.INT16, DType.INT8, DType.INT32}
        : new DType[] {DType.FLOAT32, DType.FLOAT32, DType.FLOAT32, DType.FLOAT32, DType.FLOAT32, DType.FLOAT32};
    Tensor[] all = {in, wf, wt, state, out, bias};
    for (int k = 0; k < all.length; k++) {
      if (all[k] != null && all[k].dtype() != want[k]) {
        throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles float32 SVDF and full-integer SVDF "
            + "(int8 input, weights_feature and output, int16 weights_time and state, int32 bias)"
            // family: dtypes (tfl-dtypes)
            + (in.dtype() == DType.FLOAT32 && wf.dtype() == DType.INT8
                ? "; this is a hybrid SVDF (float32 input, int8 weights), which TFLite Micro does not run either: convert "
                    + "with full-integer quantization or keep float32 weights" : ""));
      }
    }
    if (!state.isVariable()) {
      throw unsupported(op, "its activation state '" + state.name() + "' is not a variable tensor; TFLite keeps SVDF state "
          + "in a variable, and so does Kiln");
    }
    NnSupport.requireRank(op, in, "the input", 2);
    NnSupport.requireRank(op, wf, "weights_feature", 2);
    NnSupport.requireRank(op, wt, "weights_time", 2);
    int batches = in.dim(0);
    int inputSize = in.dim(1);
    int filters = wf.dim(0);
    int memory = wt.dim(1);
    int rank = o.rank();
    if (wf.dim(1) != inputSize || wt.dim(0) != filters || filters % rank != 0) {
      throw unsupported(op, "weights_feature " + shape(wf) + " and weights_time " + shape(wt) + " do not fit the input "
          + shape(in) + " and rank " + rank);
    }
    int units = filters / rank;
    if (state.elements() != (long) batches * filters * memory || out.elements() != (long) batches * units
        || (bias != null && bias.elements() != units)) {
      throw unsupported(op, "state " + shape(state) + ", output " + shape(out) + (bias == null ? "" : ", bias " + shape(bias))
          + " do not fit " + batches + " batches of " + filters + " filters x memory " + memory + " (" + units + " units)");
    }
    return new Layout(int8, in, wf, wt, bias, state, out, batches, inputSize, filters, memory, rank, units);
  }

  @Override public void check(Op op) {
    Layout l = layout(op);
    if (l.int8) multipliers(op, l);
  }

  /** (q1, shift1, q2, shift2): the feature and the output rescale. */
  private int[] multipliers(Op op, Layout l) {
    float si = NnSupport.perTensor(op, l.in, "the input").scale();
    float so = NnSupport.perTensor(op, l.out, "the output").scale();
    float sf = NnSupport.weightScales(op, l.wf, "weights_feature", 0, 1)[0];
    if (l.wf.quantization().isPerChannel() || l.wt.quantization().count() != 1 || l.state.quantization().count() != 1) {
      throw unsupported(op, "needs per-tensor quantization of weights_feature, weights_time and the state");
    }
    float st = l.wt.quantization().scale();
    float ss = l.state.quantization().scale();
    if (l.state.quantization().zeroPoint() != 0 || l.wt.quantization().zeroPoint() != 0 || l.wf.quantization().zeroPoint() != 0) {
      throw unsupported(op, "needs zero points of 0 on weights_feature, weights_time and the state (TFLite's integer SVDF)");
    }
    NnSupport.requireScale(op, l.wt, "weights_time", st);
    NnSupport.requireScale(op, l.state, "the state", ss);
    FixedPoint.Multiplier m1 = FixedPoint.quantizeMultiplier((double) si * (double) sf / (double) ss);
    FixedPoint.Multiplier m2 = FixedPoint.quantizeMultiplier((double) ss * (double) st / (double) so);
    long featureBound = (long) l.inputSize * 128 * NnSupport.maxAbsInput(l.in.quantization().zeroPoint());
    NnSupport.requireShiftFits(op, new FixedPoint.Multiplier[] {m1}, new long[] {featureBound});
    if (m2.shift() > 0) {
      throw unsupported(op, "has an output rescale >= 1 (state scale * weights_time scale >= output scale), which could shift "
          + "the int32 sum out of range; re-quantize the model with a larger output scale");
    }
    return new int[] {m1.multiplier(), m1.shift(), m2.multiplier(), m2.shift()};
  }

  @Override public int scratchBytes(Op op) {
    Layout l = layout(op);
    return 4 * l.batches * l.filters;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    if (l.int8) {
      int[] m = multipliers(op, l);
      NnSupport.Init init = new NnSupport.Init().put("batches", l.batches).put("input_size", l.inputSize)
          .put("filters", l.filters).put("memory", l.memory).put("rank", l.rank).put("units", l.units)
          .put("input_offset", -l.in.quantization().zeroPoint()).put("output_offset", l.out.quantization().zeroPoint())
          .put("multiplier_1", m[0]).put("shift_1", m[1]).put("multiplier_2", m[2]).put("shift_2", m[3]);
      String params = ctx.constant("kiln_svdf_s8_params", "svdf", init.toString());
      ctx.body().line(NnSupport.format("kiln_svdf_s8(&%s, %s, %s, %s, %s, %s, %s, (int32_t *)%s);", params, ctx.data(l.in),
          ctx.data(l.wf), ctx.data(l.wt), l.bias == null ? "NULL" : ctx.data(l.bias), ctx.data(l.state), ctx.data(l.out),
          ctx.scratch()));
      return;
    }
    float[] act = FixedPoint.activationRangeFloat(op.options(Options.Svdf.class).activation());
    NnSupport.Init init = new NnSupport.Init().put("batches", l.batches).put("input_size", l.inputSize)
        .put("filters", l.filters).put("memory", l.memory).put("rank", l.rank).put("units", l.units)
        .put("act_min_f", act[0]).put("act_max_f", act[1]);
    String params = ctx.constant("kiln_svdf_params", "svdf", init.toString());
    ctx.body().line(NnSupport.format("kiln_svdf_f32(&%s, %s, %s, %s, %s, %s, %s, (float *)%s);", params, ctx.data(l.in),
        ctx.data(l.wf), ctx.data(l.wt), l.bias == null ? "NULL" : ctx.data(l.bias), ctx.data(l.state), ctx.data(l.out),
        ctx.scratch()));
  }
}
