package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Set;

/**
 * ARG_MAX / ARG_MIN over one axis (reference_ops::ArgMinMax): float32, int8, int16 or int32 input
 * (quantized codes compare as integers, which orders them as their real values), int32 or int64
 * indices; on ties the first index wins.
 */
final class ArgMinMaxEmitter implements KernelEmitter {
  private static final Set<DType> INPUTS = Set.of(DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32);
  private final boolean max;

  ArgMinMaxEmitter(boolean max) {
    this.max = max;
  }

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.ArgMinMax o = op.options(Options.ArgMinMax.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    if (!INPUTS.contains(in.dtype()) || (out.dtype() != DType.INT32 && out.dtype() != DType.INT64)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles " + op.type()
          + " from float32, int8, int16 or int32 to int32 or int64 indices");
    }
    if (o.axis() < 0 || o.axis() >= in.rank()) throw unsupported(op, "axis " + o.axis() + " is outside the input's rank " + in.rank());
    if (out.elements() * in.dim(o.axis()) != in.elements()) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " is not the input " + NnSupport.shape(in) + " without axis " + o.axis());
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.ArgMinMax o = op.options(Options.ArgMinMax.class);
    Tensor in = op.input(0);
    long outer = 1;
    long inner = 1;
    for (int d = 0; d < o.axis(); d++) outer *= in.dim(d);
    for (int d = o.axis() + 1; d < in.rank(); d++) inner *= in.dim(d);
    NnSupport.Init init = new NnSupport.Init().put("outer", (int) outer).put("axis", in.dim(o.axis())).put("inner", (int) inner)
        .put("is_max", max ? 1 : 0).put("output_64", op.output().dtype() == DType.INT64 ? 1 : 0);
    String params = ctx.constant("kiln_arg_params", max ? "arg_max" : "arg_min", init.toString());
    ctx.body().line(NnSupport.format("kiln_arg_%s(&%s, %s, %s);", ReduceKernels.suffix(in.dtype()), params, ctx.data(in),
        ctx.data(op.output())));
  }
}
