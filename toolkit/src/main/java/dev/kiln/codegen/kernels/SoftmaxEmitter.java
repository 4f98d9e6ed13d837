package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * SOFTMAX over the last axis (tflite-numerics.md section 5): int8 -> int8 through TFLite's
 * gemmlowp fixed-point path (the reference kernel, not the optimized float table), float32 with
 * {@code expf}. The int8 kernel reads the 256 possible exponentials from a constant table made here.
 */
final class SoftmaxEmitter implements KernelEmitter {
  /** Q5.26 input differences (kScaledDiffIntegerBits). */
  static final int SCALED_DIFF_INTEGER_BITS = 5;
  /** The Q12 row sum holds at most 4095 terms of 2^19 without wrapping. */
  static final int MAX_INT8_DEPTH = 4095;

  /** int8 Prepare: the input multiplier/left shift and diff_min (PreprocessSoftmaxScaling, CalculateInputRadius). */
  record Int8Params(Multiplier input, int diffMin) {}

  static Int8Params int8Params(float beta, float inputScale) {
    double real = Math.min((double) beta * (double) inputScale * (double) (1L << (31 - SCALED_DIFF_INTEGER_BITS)),
        (double) ((1L << 31) - 1));
    Multiplier m = FixedPoint.quantizeMultiplier(real);
    double maxInputRescaled = 1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
        * (double) (1L << (31 - SCALED_DIFF_INTEGER_BITS)) / (double) (1L << m.shift());
    int diffMin = -(int) Math.floor(maxInputRescaled);
    return new Int8Params(m, diffMin);
  }

  @Override public void check(Op op) {
    if (op.options() instanceof Options.QLinearSoftmax) {
      QLinearEmitter.checkSoftmax(op);
      return;
    }
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    if (in.rank() < 1) throw unsupported(op, "the input is a scalar; SOFTMAX needs at least one dimension");
    ElementwiseKernels.count(op, in);
    float beta = op.options(Options.Softmax.class).beta();
    if (in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32) {
      if (!Float.isFinite(beta)) throw unsupported(op, "beta is " + beta + "; it must be finite");
      return;
    }
    if (in.dtype() != DType.INT8 || (out.dtype() != DType.INT8 && out.dtype() != DType.INT16)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles SOFTMAX int8 -> int8, int8 -> int16 "
          + "and float32 -> float32 (int16 -> int16 in the 16x8 scheme)");
    }
    Quantization qi = perTensor(op, in, "input");
    Quantization qo = perTensor(op, out, "output");
    float so = qo.scale();
    boolean wide = out.dtype() == DType.INT16;
    float want = wide ? 1f / 65536 : 1f / 256;
    if (qo.zeroPoint() != (wide ? -32768 : -128) || Math.abs(so - want) > 0.001f * want) {
      throw unsupported(op, "the " + (wide ? "int16 output must have scale 1/65536 and zero point -32768" : "int8 output "
          + "must have scale 1/256 and zero point -128") + " (TFLite requires it), found " + qo
          + "; convert the model with the TFLite converter's default softmax quantization");
    }
    int depth = in.dim(-1);
    if (depth > MAX_INT8_DEPTH) {
      throw unsupported(op, "the last axis has " + depth + " elements; the int8 kernel's Q12 sum (as TFLite's) overflows above "
          + MAX_INT8_DEPTH + "; split the softmax or run it in float32");
    }
    double real = (double) beta * (double) qi.scale() * (double) (1L << 26);
    if (!(real > 1.0) || Double.isNaN(real)) {
      throw unsupported(op, "beta * input scale = " + ((double) beta * qi.scale())
          + " must be above 2^-26 (TFLite aborts otherwise); check the input quantization");
    }
  }


  /** Ops of at most this many values compute their exponentials (kiln_softmax_exp_q5) instead of reading a table. */
  static final int EXP_RUNTIME_MAX_VALUES = 64;

  /**
   * Whether an int8 softmax computes its exponentials at run time: its table would hold {@code
   * last + 1} words (kws: 125, 500 B; vww: 256, 1 KiB) while the op evaluates 2 per value (the row
   * sum, then each output), about a hundred instructions each, so only small ops (a classifier's
   * last layer) take it; deep or many rows keep the table.
   */
  static boolean expAtRunTime(int rows, int depth, int last) {
    return (long) rows * depth <= EXP_RUNTIME_MAX_VALUES && last > 0;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    if (op.options() instanceof Options.QLinearSoftmax) {
      QLinearEmitter.emitSoftmax(op, ctx);
      return;
    }
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int depth = in.dim(-1);
    int rows = depth == 0 ? 0 : (int) (in.elements() / depth);
    float beta = op.options(Options.Softmax.class).beta();
    if (rows == 0 || depth == 0) {
      ctx.body().comment("SOFTMAX op #" + op.index() + ": empty tensor, nothing to do");
      return;
    }
    if (in.dtype() == DType.FLOAT32) {
      String p = ctx.constant("kiln_softmax_f32_params", "softmax" + op.index(), ElementwiseKernels.initializer(
          ".rows = " + rows + ", .depth = " + depth + ", .beta = " + CLiterals.f32(beta)));
      ctx.body().line("kiln_softmax_f32(&" + p + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
      return;
    }
    Int8Params q = int8Params(beta, in.quantization().scale());
    // the kernel reads entry -diff only for diff >= diff_min and takes 0 below it, so the table stops at
    // its last non-zero entry and diff_min moves up to it: entries past it are 0 either way
    int[] exp = SoftmaxExpTable.table(q.input(), q.diffMin());
    int last = 0;
    for (int d = 0; d < exp.length; d++) if (exp[d] != 0) last = d;
    String expInit;
    if (expAtRunTime(rows, depth, last)) {
      ctx.useKernelSwitch("KILN_SOFTMAX_EXP_RUNTIME_USED", rows + " x " + depth + " values: computing "
          + 2 * rows * depth + " exponentials takes fewer bytes than a table of " + (last + 1));
      expInit = ".input_shift = " + q.input().shift() + ", .exp.input_multiplier = " + CLiterals.i32(q.input().multiplier());
    } else {
      expInit = ".input_shift = -1, .exp.table = " + ctx.tableI32("softmax_exp", java.util.Arrays.copyOf(exp, last + 1));
    }
    String p = ctx.constant("kiln_softmax_s8_params", "softmax" + op.index(), ElementwiseKernels.initializer(
        ".rows = " + rows + ", .depth = " + depth, ".diff_min = " + -last + ", " + expInit));
    ctx.body().line((out.dtype() == DType.INT16 ? "kiln_softmax_s8_s16(&" : "kiln_softmax_s8(&") + p + ", " + ctx.data(in)
        + ", " + ctx.data(out) + ");");
  }
}
