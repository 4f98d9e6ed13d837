package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;

/**
 * GATHER (axis, batch_dims) and EMBEDDING_LOOKUP (rows of a table): the indices are read at run
 * time, so they may be activations. An index out of range gives a zero slice (TFLite fails the invoke).
 */
final class GatherEmitter implements KernelEmitter {

  private static Tensor indices(Op op) { return op.type() == OpType.EMBEDDING_LOOKUP ? op.input(0) : op.input(1); }

  @Override public void check(Op op) {
    if (op.inputs().size() != 2 || op.input(0) == null || op.input(1) == null || op.outputs().size() != 1) {
      throw ElementwiseKernels.unsupported(op, "expected 2 inputs and 1 output; the model file is malformed");
    }
    MovementKernels.requireSameEncoding(op, Movement.data(op), op.output());
    MovementKernels.indexBytes(op, indices(op), op.type() == OpType.EMBEDDING_LOOKUP ? "ids" : "indices");
    MovementKernels.geometry(op, () -> Movement.gather(op));
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Movement.Gather g = Movement.gather(op);
    if (op.output().elements() == 0) return;
    String params = ctx.constant("kiln_gather_params", "gather", ElementwiseKernels.initializer(
        ".batch = " + g.batch() + ", .outer = " + g.outer() + ", .axis_size = " + g.axisSize(),
        ".coords = " + g.coords() + ", .inner_bytes = " + g.innerBytes() + ", .index_bytes = " + indices(op).dtype().byteSize()));
    ctx.body().line("(void)kiln_gather(&" + params + ", " + ctx.data(Movement.data(op)) + ", " + ctx.data(indices(op)) + ", "
        + ctx.data(op.output()) + ");");
  }
}
