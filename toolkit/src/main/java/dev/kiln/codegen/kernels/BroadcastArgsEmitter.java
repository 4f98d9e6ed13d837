package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/** BROADCAST_ARGS on run-time shape vectors (constant ones are folded at compile time). */
final class BroadcastArgsEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    ElementwiseKernels.requireArity(op, 2);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    int bytes = MovementKernels.indexBytes(op, a, "shape");
    if (b.dtype() != a.dtype() || op.output().dtype() != a.dtype() || a.rank() != 1 || b.rank() != 1
        || op.output().elements() != Math.max(a.elements(), b.elements())) {
      throw ElementwiseKernels.unsupported(op, "expected two 1-D shapes and an output of the longer length, all of one type; got "
          + ElementwiseKernels.dtypes(op));
    }
    if (bytes == 0) throw new IllegalStateException();
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    ctx.body().line("kiln_broadcast_args(" + op.input(0).elements() + ", " + op.input(1).elements() + ", " + op.input(0).dtype().byteSize()
        + ", " + ctx.data(op.input(0)) + ", " + ctx.data(op.input(1)) + ", " + ctx.data(op.output()) + ");");
  }
}
