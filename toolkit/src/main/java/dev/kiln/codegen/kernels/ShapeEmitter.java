package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/**
 * SHAPE: shapes are static, so this only runs when the result is a model output (anything else is
 * folded at compile time); it writes the known dimensions.
 */
final class ShapeEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    ElementwiseKernels.requireArity(op, 1);
    Tensor out = op.output();
    if ((out.dtype() != DType.INT32 && out.dtype() != DType.INT64) || out.elements() != op.input(0).rank()) {
      throw ElementwiseKernels.unsupported(op, "the output must be an int32 or int64 vector of " + op.input(0).rank() + " entries");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor out = op.output();
    for (int d = 0; d < op.input(0).rank(); d++) {
      ctx.body().line(ctx.data(out) + "[" + d + "] = " + op.input(0).dim(d) + ";");
    }
  }
}
