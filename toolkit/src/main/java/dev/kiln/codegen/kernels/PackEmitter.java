package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Movement;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;

/** PACK: CONCATENATION along a new axis, one strided row copy per input (any dtype, equal quantization). */
final class PackEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    if (op.inputs().isEmpty() || op.inputs().stream().anyMatch(t -> t == null) || op.outputs().size() != 1) {
      throw ElementwiseKernels.unsupported(op, "expected at least one input and 1 output; the model file is malformed");
    }
    for (Tensor t : op.inputs()) {
      MovementKernels.requireSameEncoding(op, t, op.output());
      if (t.elements() * op.inputs().size() != op.output().elements()) {
        throw ElementwiseKernels.unsupported(op, "input '" + t.name() + "' has " + t.elements() + " elements; " + op.inputs().size()
            + " such inputs do not make the output's " + op.output().elements());
      }
    }
    MovementKernels.geometry(op, () -> Movement.join(op));
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Movement.Join j = Movement.join(op);
    long offset = 0;
    for (int i = 0; i < op.inputs().size(); i++) {
      long row = j.rowBytes()[i];
      if (row > 0 && j.outer() > 0) {
        ctx.body().line("kiln_copy_rows(" + ctx.data(op.input(i)) + ", " + ctx.data(op.output()) + ", " + j.outer() + ", " + row + ", "
            + j.outRowBytes() + ", " + offset + ");");
      }
      offset += row;
    }
  }
}
