package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;

/**
 * RELU and RELU6 on int16 (zero points 0), as TFLite's QuantizedReluX: the input rescaled by the
 * float32 ratio s_in / s_out (a Q31 multiplier and a shift), then clamped to [0, 32767] or
 * [0, roundf(6 / s_out)].
 */
final class Relu16Emitter implements KernelEmitter {
  private final OpType type;

  Relu16Emitter(OpType type) {
    if (type != OpType.RELU && type != OpType.RELU6) throw new IllegalArgumentException(type.toString());
    this.type = type;
  }

  record Params(FixedPoint.Multiplier m, int lo, int hi) {}

  Params params(Op op) {
    ElementwiseKernels.requireArity(op, 1);
    ElementwiseKernels.requireSameShape(op, op.input(0), op.output());
    ElementwiseKernels.count(op, op.input(0));
    float sIn = Int16Emitter.int16(op, op.input(0), "input").scale();
    float sOut = Int16Emitter.int16(op, op.output(), "output").scale();
    FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(sIn / sOut);
    int left = Math.max(m.shift(), 0);
    if (left > 15) {
      throw unsupported(op, "the input/output scale ratio " + sIn / sOut + " needs a left shift of " + left
          + ", which overflows 32-bit arithmetic for int16 codes (TFLite's result would be undefined)");
    }
    int hi = type == OpType.RELU6 ? Math.min(32767, FixedPoint.rhaz(6f / sOut)) : 32767;
    return new Params(m, Math.max(-32768, FixedPoint.rhaz(0f / sOut)), hi);
  }

  @Override public void check(Op op) { params(op); }

  @Override public void emit(Op op, KernelContext ctx) {
    Params p = params(op);
    ctx.body().line("kiln_relu_s16(" + ctx.data(op.input(0)) + ", " + ctx.data(op.output()) + ", "
        + ElementwiseKernels.count(op, op.input(0)) + "u, " + p.m().multiplier() + ", " + p.m().shift() + ", " + p.lo() + ", "
        + p.hi() + ");");
  }
}
