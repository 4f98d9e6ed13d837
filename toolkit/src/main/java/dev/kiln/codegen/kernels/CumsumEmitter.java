package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Arrays;

/**
 * CUMSUM along one axis, exclusive and/or reverse: float32, int32, int64 (TFLite's reference
 * types; TFLite has no int8 CUMSUM to compare with, so Kiln refuses it).
 */
final class CumsumEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Cumsum o = op.options(Options.Cumsum.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    DType t = in.dtype();
    if (t != out.dtype() || (t != DType.FLOAT32 && t != DType.INT32 && t != DType.INT64)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles CUMSUM for float32, int32 and int64 "
          + "(TFLite's reference kernel has no quantized CUMSUM)");
    }
    if (!Arrays.equals(in.shape(), out.shape())) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " must have the input's shape " + NnSupport.shape(in));
    }
    if (o.axis() < 0 || o.axis() >= in.rank()) throw unsupported(op, "axis " + o.axis() + " is outside the input's rank " + in.rank());
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Cumsum o = op.options(Options.Cumsum.class);
    Tensor in = op.input(0);
    long outer = 1;
    long inner = 1;
    for (int d = 0; d < o.axis(); d++) outer *= in.dim(d);
    for (int d = o.axis() + 1; d < in.rank(); d++) inner *= in.dim(d);
    NnSupport.Init init = new NnSupport.Init().put("outer", (int) outer).put("axis", in.dim(o.axis())).put("inner", (int) inner)
        .put("exclusive", o.exclusive() ? 1 : 0).put("reverse", o.reverse() ? 1 : 0);
    String params = ctx.constant("kiln_cumsum_params", "cumsum", init.toString());
    ctx.body().line(NnSupport.format("kiln_cumsum_%s(&%s, %s, %s);", ReduceKernels.suffix(in.dtype()), params, ctx.data(in),
        ctx.data(op.output())));
  }
}
