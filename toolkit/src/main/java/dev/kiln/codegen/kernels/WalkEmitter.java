package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;

/**
 * SLICE, STRIDED_SLICE, REVERSE_V2, TILE and BROADCAST_TO: one walk of the input (begin, end,
 * strides, axes and multiples are constants, read here), any dtype. A walk that reads consecutive
 * elements is a memcpy. SLICE may take its begin at run time, as TFLite Micro allows: the size is
 * then the static output shape and the kernel clamps each begin so the copy stays inside the input.
 */
final class WalkEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    if (op.outputs().size() != 1 || op.input(0) == null) {
      throw ElementwiseKernels.unsupported(op, "expected a data input and 1 output; the model file is malformed");
    }
    MovementKernels.requireSameEncoding(op, op.input(0), op.output());
    if (runTimeBegin(op)) {
      checkRunTimeBegin(op);
      return;
    }
    Walk w = MovementKernels.geometry(op, () -> {
      Walk walk = Movement.walk(op);
      walk.requireWithin(op.input(0).elements());
      return walk;
    });
    MovementKernels.walkParams(op, w, op.input(0).dtype().byteSize());
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    if (out.elements() == 0) {
      ctx.body().comment(op.type() + " op #" + op.index() + ": empty output, nothing to do");
      return;
    }
    if (runTimeBegin(op)) {
      emitRunTimeBegin(op, ctx);
      return;
    }
    Walk w = Movement.walk(op);
    if (w.isContiguous()) {
      ctx.body().line("memcpy(" + ctx.data(out) + ", " + ctx.data(in) + " + " + w.offset() + ", " + out.byteSize() + ");");
      return;
    }
    String params = ctx.constant("kiln_walk_params", "walk", MovementKernels.walkParams(op, w, in.dtype().byteSize()));
    ctx.body().line("kiln_walk_copy(&" + params + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
  }

  private static boolean runTimeBegin(Op op) {
    return op.type() == OpType.SLICE && op.input(1) != null && !op.input(1).isConstant();
  }

  private static void checkRunTimeBegin(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    MovementKernels.indexBytes(op, op.input(1), "begin");
    if (in.rank() > Walk.RANK || out.rank() != in.rank() || op.input(1).elements() != in.rank()) {
      throw ElementwiseKernels.unsupported(op, "a run-time begin needs input and output of one rank up to " + Walk.RANK
          + " and one begin per axis; got " + Shape.toString(in.shape()) + " -> " + Shape.toString(out.shape()));
    }
    for (int d = 0; d < in.rank(); d++) {
      if (out.dim(d) > in.dim(d)) {
        throw ElementwiseKernels.unsupported(op, "the output " + Shape.toString(out.shape()) + " is larger than the input "
            + Shape.toString(in.shape()) + " in dimension " + d);
      }
    }
  }

  private static void emitRunTimeBegin(Op op, KernelContext ctx) {
    Tensor in = op.input(0);
    long[] shape = new long[Walk.RANK];
    long[] size = new long[Walk.RANK];
    java.util.Arrays.fill(shape, 1);
    java.util.Arrays.fill(size, 1);
    int pad = Walk.RANK - in.rank();
    for (int d = 0; d < in.rank(); d++) {
      shape[pad + d] = in.dim(d);
      size[pad + d] = op.output().dim(d);
    }
    String params = ctx.constant("kiln_slice_params", "slice", ElementwiseKernels.initializer(
        ".rank = " + in.rank(), ".shape = " + MovementKernels.list(shape, Walk.RANK), ".size = " + MovementKernels.list(size, Walk.RANK),
        ".element_bytes = " + in.dtype().byteSize() + ", .index_bytes = " + op.input(1).dtype().byteSize()));
    ctx.body().line("kiln_slice(&" + params + ", " + ctx.data(in) + ", " + ctx.data(op.input(1)) + ", " + ctx.data(op.output()) + ");");
  }
}
