package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;

/** GATHER_ND: index vectors read at run time pick slices of the params (any dtype). */
final class GatherNdEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    ElementwiseKernels.requireArity(op, 2);
    MovementKernels.requireSameEncoding(op, op.input(0), op.output());
    MovementKernels.indexBytes(op, op.input(1), "indices");
    Movement.GatherNd g = MovementKernels.geometry(op, () -> Movement.gatherNd(op));
    if (g.depth() > Walk.RANK) {
      throw ElementwiseKernels.unsupported(op, "index vectors have " + g.depth() + " entries; Kiln's kernel takes at most " + Walk.RANK);
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Movement.GatherNd g = Movement.gatherNd(op);
    if (op.output().elements() == 0) return;
    String params = ctx.constant("kiln_gather_nd_params", "gather_nd", ElementwiseKernels.initializer(
        ".count = " + g.count() + ", .depth = " + g.depth(),
        ".dims = " + MovementKernels.list(g.dims(), Walk.RANK), ".stride_bytes = " + MovementKernels.list(g.strides(), Walk.RANK),
        ".slice_bytes = " + g.sliceBytes() + ", .index_bytes = " + op.input(1).dtype().byteSize()));
    ctx.body().line("(void)kiln_gather_nd(&" + params + ", " + ctx.data(op.input(0)) + ", " + ctx.data(op.input(1)) + ", "
        + ctx.data(op.output()) + ");");
  }
}
