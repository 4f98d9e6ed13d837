package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;

/** DYNAMIC_UPDATE_SLICE: the operand copied, then the update written at run-time start indices (clamped to fit). */
final class UpdateSliceEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    ElementwiseKernels.requireArity(op, 3);
    Tensor operand = op.input(0);
    Tensor update = op.input(1);
    MovementKernels.requireSameEncoding(op, operand, op.output());
    MovementKernels.requireSameEncoding(op, update, op.output());
    MovementKernels.indexBytes(op, op.input(2), "start indices");
    int r = operand.rank();
    if (update.rank() != r || op.input(2).elements() != r || !ElementwiseKernels.sameShape(operand, op.output()) || r > Walk.RANK) {
      throw ElementwiseKernels.unsupported(op, "operand " + Shape.toString(operand.shape()) + ", update " + Shape.toString(update.shape())
          + " and " + op.input(2).elements() + " start indices do not fit (equal ranks up to " + Walk.RANK + ", one start per axis)");
    }
    for (int d = 0; d < r; d++) {
      if (update.dim(d) > operand.dim(d)) {
        throw ElementwiseKernels.unsupported(op, "the update " + Shape.toString(update.shape()) + " is larger than the operand "
            + Shape.toString(operand.shape()) + " in dimension " + d);
      }
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor operand = op.input(0);
    long[] os = new long[operand.rank()];
    long[] us = new long[operand.rank()];
    for (int d = 0; d < os.length; d++) {
      os[d] = operand.dim(d);
      us[d] = op.input(1).dim(d);
    }
    String params = ctx.constant("kiln_update_slice_params", "update", ElementwiseKernels.initializer(
        ".rank = " + os.length, ".operand_shape = " + MovementKernels.list(os, Walk.RANK),
        ".update_shape = " + MovementKernels.list(us, Walk.RANK),
        ".element_bytes = " + operand.dtype().byteSize() + ", .index_bytes = " + op.input(2).dtype().byteSize()));
    ctx.body().line("kiln_dynamic_update_slice(&" + params + ", " + ctx.data(operand) + ", " + ctx.data(op.input(1)) + ", "
        + ctx.data(op.input(2)) + ", " + ctx.data(op.output()) + ");");
  }
}
