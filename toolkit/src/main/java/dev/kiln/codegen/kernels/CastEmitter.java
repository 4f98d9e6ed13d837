package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.MathKernels.requireDType;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.Set;

/**
 * CAST between float32, int8, uint8, int16, int32, int64 and bool: C conversions of the stored
 * values (quantization parameters are ignored, as TFLite's cast does); float to integer truncates,
 * anything to bool is {@code x != 0}.
 */
final class CastEmitter implements KernelEmitter {
  private static final Set<DType> TYPES = Set.of(DType.values());

  @Override public void check(Op op) {
    requireArity(op, 1);
    requireSameShape(op, op.input(0), op.output());
    requireDType(op, op.input(0), "input", TYPES);
    requireDType(op, op.output(), "output", TYPES);
    ElementwiseKernels.count(op, op.input(0));
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int n = ElementwiseKernels.count(op, in);
    if (in.dtype() == out.dtype() || in.dtype() == DType.BOOL && out.dtype() == DType.UINT8) { // same bytes
      ctx.body().line("kiln_copy_rows(" + ctx.data(in) + ", " + ctx.data(out) + ", 1, " + in.byteSize() + ", 0, 0);");
      return;
    }
    ctx.body().line("kiln_cast_" + MathKernels.suffix(in.dtype()) + "_" + MathKernels.suffix(out.dtype()) + "("
        + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ");");
  }
}
