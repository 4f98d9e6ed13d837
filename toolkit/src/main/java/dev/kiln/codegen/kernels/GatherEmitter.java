package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * GATHER (axis, batch_dims) and EMBEDDING_LOOKUP (rows of a table): the indices are read at run
 * time, so they may be activations. An index out of range gives a zero slice (TFLite fails the invoke).
 * EMBEDDING_LOOKUP also reads an int8 table into float32 rows (TFLite's EvalHybrid, as dynamic-range
 * quantization stores an embedding; TFLite Micro runs it too): code x scale, one scale or one per row.
 */
final class GatherEmitter implements KernelEmitter {

  private static Tensor indices(Op op) { return op.type() == OpType.EMBEDDING_LOOKUP ? op.input(0) : op.input(1); }

  private static boolean hybrid(Op op) {
    return op.type() == OpType.EMBEDDING_LOOKUP && op.input(1).dtype() == DType.INT8 && op.output().dtype() == DType.FLOAT32;
  }

  /** The hybrid lookup's table, checked: [rows, ...] int8, symmetric, one scale or one per row. */
  private static Tensor hybridTable(Op op) {
    Tensor ids = op.input(0);
    Tensor table = op.input(1);
    Quantization q = table.quantization();
    if (ids.rank() != 1 || table.rank() < 2) {
      throw ElementwiseKernels.unsupported(op, "ids " + NnSupport.shape(ids) + " and table " + NnSupport.shape(table)
          + " are not a vector of ids into a table of rows (TFLite requires rank 1 and rank >= 2)");
    }
    if (!q.isQuantized() || (q.isPerChannel() && (q.axis() != 0 || q.count() != table.dim(0)))) {
      throw ElementwiseKernels.unsupported(op, "the int8 table '" + table.name() + "' has quantization " + q + "; a hybrid "
          + "EMBEDDING_LOOKUP needs one scale or one per row (axis 0)");
    }
    for (long z : q.zeroPoints()) {
      if (z != 0) {
        throw ElementwiseKernels.unsupported(op, "the int8 table '" + table.name() + "' has zero point " + z + "; TFLite's "
            + "hybrid EMBEDDING_LOOKUP ignores zero points and TFLite Micro's subtracts them, so Kiln compiles the "
            + "symmetric tables (zero point 0) both agree on");
      }
    }
    long cols = table.elements() / table.dim(0);
    if (op.output().elements() != ids.elements() * cols) {
      throw ElementwiseKernels.unsupported(op, "the output " + NnSupport.shape(op.output()) + " does not hold "
          + ids.elements() + " rows of " + cols + " values");
    }
    return table;
  }

  @Override public void check(Op op) {
    if (op.inputs().size() != 2 || op.input(0) == null || op.input(1) == null || op.outputs().size() != 1) {
      throw ElementwiseKernels.unsupported(op, "expected 2 inputs and 1 output; the model file is malformed");
    }
    if (hybrid(op)) {
      hybridTable(op);
      MovementKernels.indexBytes(op, indices(op), "ids");
      return;
    }
    MovementKernels.requireSameEncoding(op, Movement.data(op), op.output());
    MovementKernels.indexBytes(op, indices(op), op.type() == OpType.EMBEDDING_LOOKUP ? "ids" : "indices");
    MovementKernels.geometry(op, () -> Movement.gather(op));
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    if (hybrid(op)) {
      emitHybrid(op, ctx);
      return;
    }
    Movement.Gather g = Movement.gather(op);
    if (op.output().elements() == 0) return;
    String params = ctx.constant("kiln_gather_params", "gather", ElementwiseKernels.initializer(
        ".batch = " + g.batch() + ", .outer = " + g.outer() + ", .axis_size = " + g.axisSize(),
        ".coords = " + g.coords() + ", .inner_bytes = " + g.innerBytes() + ", .index_bytes = " + indices(op).dtype().byteSize()));
    ctx.body().line("(void)kiln_gather(&" + params + ", " + ctx.data(Movement.data(op)) + ", " + ctx.data(indices(op)) + ", "
        + ctx.data(op.output()) + ");");
  }

  private static void emitHybrid(Op op, KernelContext ctx) {
    Tensor table = hybridTable(op);
    Tensor ids = indices(op);
    if (op.output().elements() == 0) return;
    Quantization q = table.quantization();
    String params = ctx.constant("kiln_embedding_hybrid_params", "embedding", ElementwiseKernels.initializer(
        ".count = " + ids.elements() + ", .rows = " + table.dim(0) + ", .cols = " + table.elements() / table.dim(0),
        ".index_bytes = " + ids.dtype().byteSize() + ", .per_row = " + (q.isPerChannel() ? 1 : 0)));
    String scales = ctx.tableF32("embedding_scales", q.scales());
    ctx.body().line("(void)kiln_embedding_lookup_hybrid(&" + params + ", " + ctx.data(table) + ", " + ctx.data(ids) + ", "
        + scales + ", " + ctx.data(op.output()) + ");");
  }
}
