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
 * SVDF float32 (TFLite's reference EvalFloat, see kiln_svdf_f32): inputs (input [B, I],
 * weights_feature [F, I], weights_time [F, M], optional bias [F / rank], state [B, F * M]). The state
 * must be a variable tensor: it lives in a static buffer that starts at zero and keeps its value
 * from one run to the next, as in TFLite Micro. int8 and hybrid SVDF are refused.
 */
final class SvdfEmitter implements KernelEmitter {
  private record Layout(Tensor in, Tensor wf, Tensor wt, Tensor bias, Tensor state, Tensor out, int batches, int inputSize,
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
    for (Tensor t : new Tensor[] {in, wf, wt, state, out, bias}) {
      if (t != null && t.dtype() != DType.FLOAT32) {
        throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles float32 SVDF (int8 and hybrid SVDF "
            + "are not done)");
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
    return new Layout(in, wf, wt, bias, state, out, batches, inputSize, filters, memory, rank, units);
  }

  @Override public void check(Op op) { layout(op); }

  @Override public int scratchBytes(Op op) {
    Layout l = layout(op);
    return 4 * l.batches * l.filters;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
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
