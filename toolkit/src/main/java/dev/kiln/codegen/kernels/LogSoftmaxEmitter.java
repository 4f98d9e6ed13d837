package dev.kiln.codegen.kernels;

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
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * LOG_SOFTMAX over the last axis. float32: {@code x - max - log(sum(exp(x - max)))}. int8: TFLite's
 * reference_integer_ops::LogSoftmax (output scale 16/256, zero point 127): Prepare's input multiplier,
 * diff_min and reverse scaling are computed here, with the two per-difference tables (exponentials in
 * Q12, scaled differences in Q5.26); the row sums and the fixed-point log run on the device.
 */
final class LogSoftmaxEmitter implements KernelEmitter {
  /** Q12 row sums of at most 2^12 terms below 2^19 each stay below 2^31. */
  static final int MAX_INT8_DEPTH = 4095;

  /** Prepare's constants (PreprocessLogSoftmaxScalingExp, CalculateInputRadius) and the two tables. */
  record Int8Params(int diffMin, int reverseMultiplier, int reverseRightShift, int[] expQ12, int[] diffQ5) {}

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    if (in.rank() < 1) throw unsupported(op, "the input is a scalar; LOG_SOFTMAX needs at least one dimension");
    ElementwiseKernels.count(op, in);
    if (in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32) return;
    if (in.dtype() != DType.INT8 || out.dtype() != DType.INT8) {
      throw unsupported(op, "dtypes " + ElementwiseKernels.dtypes(op) + " are not supported; Kiln compiles LOG_SOFTMAX "
          + "int8 -> int8 and float32 -> float32");
    }
    int8Params(op);
  }

  Int8Params int8Params(Op op) {
    Quantization qi = perTensor(op, op.input(0), "input");
    Quantization qo = perTensor(op, op.output(), "output");
    if (qo.scale() != 16f / 256 || qo.zeroPoint() != 127) {
      throw unsupported(op, "the int8 output must have scale 16/256 and zero point 127 (TFLite requires it), found " + qo
          + "; convert the model with the TFLite converter's default LOG_SOFTMAX quantization");
    }
    if (op.input(0).dim(-1) > MAX_INT8_DEPTH) {
      throw unsupported(op, "the last axis has " + op.input(0).dim(-1) + " elements; the int8 kernel's Q12 sum (as TFLite's)"
          + " overflows above " + MAX_INT8_DEPTH + "; run this op in float32");
    }
    SoftmaxEmitter.Int8Params s = SoftmaxEmitter.int8Params(1f, qi.scale());
    Multiplier m = s.input();
    if (m.shift() < 1 || m.shift() > 30) {
      throw unsupported(op, "the input scale " + qi.scale() + " gives a left shift of " + m.shift()
          + " (TFLite's int8 LOG_SOFTMAX needs 1..30: an input scale between about 2^-26 and 16); check the quantization");
    }
    double reverse = (double) (1L << (31 - m.shift())) / (double) m.multiplier();
    Multiplier r = FixedPoint.quantizeMultiplier(reverse);
    if (!(reverse < 1)) throw unsupported(op, "the reverse scaling " + reverse + " is not below 1; check the input quantization");
    int[] exp = SoftmaxExpTable.table(m, s.diffMin());
    int[] q5 = new int[256];
    for (int d = 0; d < 256; d++) {
      exp[d] = FixedPoint.rdbpot(exp[d], 12);
      q5[d] = FixedPoint.srdhm((int) ((long) -d << m.shift()), m.multiplier());
    }
    return new Int8Params(s.diffMin(), r.multiplier(), -r.shift(), exp, q5);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    int depth = in.dim(-1);
    int rows = depth == 0 ? 0 : (int) (in.elements() / depth);
    if (rows == 0) {
      ctx.body().comment("LOG_SOFTMAX op #" + op.index() + ": empty tensor, nothing to do");
      return;
    }
    if (in.dtype() == DType.FLOAT32) {
      ctx.body().line("kiln_log_softmax_f32(" + ctx.data(in) + ", " + ctx.data(op.output()) + ", " + rows + ", " + depth + ");");
      return;
    }
    Int8Params q = int8Params(op);
    String p = ctx.constant("kiln_log_softmax_s8_params", "log_softmax" + op.index(), ElementwiseKernels.initializer(
        ".rows = " + rows + ", .depth = " + depth + ", .diff_min = " + q.diffMin(),
        ".reverse_multiplier = " + CLiterals.i32(q.reverseMultiplier()) + ", .reverse_right_shift = " + q.reverseRightShift(),
        ".exp_q12 = " + ctx.tableI32("log_softmax_exp_q12", q.expQ12()) + ", .diff_q5 = "
            + ctx.tableI32("log_softmax_diff_q5", q.diffQ5())));
    ctx.body().line("kiln_log_softmax_s8(&" + p + ", " + ctx.data(in) + ", " + ctx.data(op.output()) + ");");
  }
}
