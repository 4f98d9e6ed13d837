package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/**
 * SLICE, STRIDED_SLICE, REVERSE_V2, TILE and BROADCAST_TO: one walk of the input (begin, end,
 * strides, axes and multiples are constants, read here), any dtype. A walk that reads consecutive
 * elements is a memcpy.
 */
final class WalkEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    if (op.outputs().size() != 1 || op.input(0) == null) {
      throw ElementwiseKernels.unsupported(op, "expected a data input and 1 output; the model file is malformed");
    }
    MovementKernels.requireSameEncoding(op, op.input(0), op.output());
    Walk w = MovementKernels.geometry(op, () -> Movement.walk(op));
    MovementKernels.walkParams(op, w, op.input(0).dtype().byteSize());
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    Walk w = Movement.walk(op);
    if (out.elements() == 0) {
      ctx.body().comment(op.type() + " op #" + op.index() + ": empty output, nothing to do");
      return;
    }
    if (w.isContiguous()) {
      ctx.body().line("memcpy(" + ctx.data(out) + ", " + ctx.data(in) + " + " + w.offset() + ", " + out.byteSize() + ");");
      return;
    }
    String params = ctx.constant("kiln_walk_params", "walk", MovementKernels.walkParams(op, w, in.dtype().byteSize()));
    ctx.body().line("kiln_walk_copy(&" + params + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
  }
}
