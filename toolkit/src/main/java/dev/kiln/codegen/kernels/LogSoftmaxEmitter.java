package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/** LOG_SOFTMAX over the last axis: float32 {@code x - max - log(sum(exp(x - max)))}. */
final class LogSoftmaxEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    requireSameShape(op, in, op.output());
    if (in.rank() < 1) throw unsupported(op, "the input is a scalar; LOG_SOFTMAX needs at least one dimension");
    if (in.dtype() != DType.FLOAT32 || op.output().dtype() != DType.FLOAT32) {
      throw unsupported(op, "dtypes " + ElementwiseKernels.dtypes(op) + " are not supported; Kiln compiles LOG_SOFTMAX "
          + "float32 -> float32 only (TFLite's int8 kernel is not ported yet): keep this op in float32 when converting");
    }
    ElementwiseKernels.count(op, in);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    int depth = in.dim(-1);
    int rows = depth == 0 ? 0 : (int) (in.elements() / depth);
    if (rows == 0) {
      ctx.body().comment("LOG_SOFTMAX op #" + op.index() + ": empty tensor, nothing to do");
      return;
    }
    ctx.body().line("kiln_log_softmax_f32(" + ctx.data(in) + ", " + ctx.data(op.output()) + ", " + rows + ", " + depth + ");");
  }
}
