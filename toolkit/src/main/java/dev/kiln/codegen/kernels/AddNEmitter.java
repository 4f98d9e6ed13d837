package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;
import static dev.kiln.codegen.kernels.MathKernels.requireDType;
import static dev.kiln.codegen.kernels.MathKernels.requireSameDType;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Set;
import java.util.stream.Collectors;

/** ADD_N: the sum of two or more inputs of one shape, float32 or int32 (TFLite's types), in input order. */
final class AddNEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    if (op.inputs().size() < 1 || op.inputs().contains(null) || op.outputs().size() != 1) {
      throw unsupported(op, "expected at least one input and one output; the model file is malformed");
    }
    Tensor out = op.output();
    requireDType(op, out, "output", Set.of(DType.FLOAT32, DType.INT32));
    for (int i = 0; i < op.inputs().size(); i++) {
      Tensor t = op.input(i);
      requireSameDType(op, t, out, "input " + (i + 1), "output");
      if (!ElementwiseKernels.sameShape(t, out)) {
        throw unsupported(op, "input " + (i + 1) + " '" + t.name() + "' has shape " + Shape.toString(t.shape())
            + ", the output " + Shape.toString(out.shape()) + "; ADD_N does not broadcast");
      }
    }
    ElementwiseKernels.count(op, out);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor out = op.output();
    String c = out.dtype().cType();
    String array = ctx.newName("add_n_inputs");
    ctx.body().line("const " + c + " *const " + array + "[" + op.inputs().size() + "] = {"
        + op.inputs().stream().map(ctx::data).collect(Collectors.joining(", ")) + "};");
    ctx.body().line("kiln_add_n_" + MathKernels.suffix(out.dtype()) + "(" + array + ", " + op.inputs().size() + ", "
        + ctx.data(out) + ", " + ElementwiseKernels.count(op, out) + ");");
  }
}
