package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;

/**
 * READ_VARIABLE and ASSIGN_VARIABLE: a copy out of or into a resource variable's static buffer
 * (input 0, a variable tensor the frontend resolved from VAR_HANDLE), which keeps its value from one
 * run to the next.
 */
final class VariableEmitter implements KernelEmitter {
  private final OpType type;

  VariableEmitter(OpType type) { this.type = type; }

  @Override public void check(Op op) {
    Tensor var = op.input(0);
    if (var == null || !var.isVariable()) {
      throw new UnsupportedOperationException("input 0 must be a resource variable (a VAR_HANDLE's handle), got " + var);
    }
    Tensor value = type == OpType.READ_VARIABLE ? op.output() : op.input(1);
    if (value == null || value.dtype() != var.dtype() || value.byteSize() != var.byteSize()) {
      throw new UnsupportedOperationException("the value " + value + " does not match the variable " + var
          + "; TFLite keeps one dtype and shape per variable");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Tensor var = op.input(0);
    if (type == OpType.READ_VARIABLE) {
      ctx.body().linef("memcpy(%s, %s, %d);", ctx.data(op.output()), ctx.data(var), var.byteSize());
    } else {
      ctx.body().linef("memcpy(%s, %s, %d);", ctx.data(var), ctx.data(op.input(1)), var.byteSize());
    }
  }
}
