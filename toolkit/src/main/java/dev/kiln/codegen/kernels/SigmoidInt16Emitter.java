package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.util.Locale;

/**
 * LOGISTIC and TANH in the 16x8 scheme (int16 in and out, zero points 0, output scale 2^-15), as
 * TensorFlow Lite 2.21's reference kernels: Prepare (here) rescales the input to 1/(3*4096) per
 * step with a multiplier under 2^15 and a right shift, or marks a power-of-two input scale with
 * multiplier 0; Eval (kiln_dtypes.c) interpolates the sigmoid table. Every other data type goes
 * to {@code others}, the emitter this one extends.
 */
final class SigmoidInt16Emitter implements KernelEmitter {
  private final OpType type;
  private final KernelEmitter others;

  SigmoidInt16Emitter(OpType type, KernelEmitter others) {
    this.type = type;
    this.others = others;
  }

  /** TFLite's (multiplier, left shift) for the int16 input: TanhPrepare / SigmoidPrepare. */
  record Params(int multiplier, int leftShift) {}

  static boolean isInt16(Op op) {
    return op.input(0) != null && (op.input(0).dtype() == DType.INT16 || op.output().dtype() == DType.INT16);
  }

  @Override public void check(Op op) {
    if (!isInt16(op)) {
      others.check(op);
      return;
    }
    params(op);
  }

  Params params(Op op) {
    ElementwiseKernels.requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    ElementwiseKernels.requireSameShape(op, in, out);
    float sIn = Int16Emitter.int16(op, in, "input").scale();
    float sOut = Int16Emitter.int16(op, out, "output").scale();
    Integer outLog2 = checkedLog2(sOut);
    if (outLog2 == null || outLog2 != -15) {
      throw unsupported(op, "the int16 output has scale " + sOut + "; TFLite's int16 " + type + " needs 1/32768 (2^-15)");
    }
    // 3 integer bits: an input scale of 2^-12 (or 2^-13 for TANH) is the table's own step
    Integer inLog2 = checkedLog2(sIn);
    int shift = inLog2 == null ? 0 : 12 + inLog2;
    boolean pot = inLog2 != null && (shift == 0 || (type == OpType.TANH && shift == 1));
    if (pot) return new Params(0, shift);
    double multiplier = (double) sIn * 4096.0 * 3.0;
    shift = 0;
    while (multiplier <= 32767.0 / 2.0 && shift <= 30) {
      shift++;
      multiplier *= 2.0;
    }
    if (multiplier >= 32768.0) {
      throw unsupported(op, "the int16 input scale " + sIn + " is too large for TFLite's int16 " + type
          + " (its input multiplier would be " + (long) multiplier + ", at most 32767 fits 32-bit arithmetic)");
    }
    return new Params((int) multiplier, shift);
  }

  /** TFLite's CheckedLog2: log2(x) rounded, or null if x is not within 1e-3 (in log2) of a power of two. */
  static Integer checkedLog2(float x) {
    float log2 = (float) Math.log(x) * (1f / (float) Math.log(2f));
    float rounded = Math.round(log2);
    if (log2 < 0 && log2 - Math.floor(log2) == 0.5) rounded = (float) Math.floor(log2); // round half away from zero
    return Math.abs(log2 - rounded) < 1e-3f ? (int) rounded : null;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    if (!isInt16(op)) {
      others.emit(op, ctx);
      return;
    }
    Params p = params(op);
    int n = ElementwiseKernels.count(op, op.input(0));
    ctx.body().line("kiln_" + type.name().toLowerCase(Locale.ROOT) + "_s16(" + ctx.data(op.input(0)) + ", "
        + ctx.data(op.output()) + ", " + n + "u, " + p.multiplier() + ", " + p.leftShift() + ");");
  }

  @Override public int scratchBytes(Op op) { return isInt16(op) ? 0 : others.scratchBytes(op); }
}
