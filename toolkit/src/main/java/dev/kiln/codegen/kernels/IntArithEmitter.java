package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Locale;
import java.util.Set;

/**
 * INT_ARITH: ONNX's elementwise integer operators on plain (unquantized) int8, uint8, int16, int32 and int64
 * tensors with numpy broadcasting ({@code kiln_int_<op>_<type>} in {@code kiln_eltwise_math.c}). TFLite's
 * quantized ADD/SUB/MUL and comparisons never come here: a quantized tensor is refused.
 */
final class IntArithEmitter implements KernelEmitter {
  private static final Set<DType> TYPES = Set.of(DType.INT8, DType.UINT8, DType.INT16, DType.INT32, DType.INT64);

  @Override public void check(Op op) {
    requireArity(op, 2);
    Options.IntArith.Kind kind = op.options(Options.IntArith.class).kind();
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    DType want = kind.isComparison() ? DType.BOOL : a.dtype();
    if (!TYPES.contains(a.dtype()) || b.dtype() != a.dtype() || out.dtype() != want) {
      throw unsupported(op, "computes " + kind + " on " + dtypes(op) + "; Kiln's integer arithmetic takes two inputs of one"
          + " type of int8, uint8, int16, int32, int64 and writes that type (bool for a comparison)");
    }
    for (Tensor t : new Tensor[] {a, b, out}) {
      if (t.quantization().isQuantized()) {
        throw unsupported(op, "tensor '" + t.name() + "' is quantized; integer arithmetic computes on plain integers"
            + " (quantized ADD, SUB, MUL and comparisons are TFLite's ops)");
      }
    }
    try {
      BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
    ElementwiseKernels.count(op, out);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Options.IntArith.Kind kind = op.options(Options.IntArith.class).kind();
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    BroadcastPlan plan = BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    String name = "int_" + kind.name().toLowerCase(Locale.ROOT);
    String p = ctx.constant("kiln_binary_params", name + op.index(), ElementwiseKernels.initializer(".bc = " + plan.initializer()));
    ctx.body().line("kiln_" + name + "_" + MathKernels.suffix(a.dtype()) + "(&" + p + ", " + ctx.data(a) + ", "
        + ctx.data(b) + ", " + ctx.data(out) + ");");
  }

  @Override public String toString() { return "IntArithEmitter"; }
}
