package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ADD, SUB and MUL on int8 or float32 with numpy broadcasting (up to 6 dimensions) and a fused
 * activation (tflite-numerics.md section 6). int8 SUB takes ADD's parameters and subtracts the two
 * rescaled inputs, as TF 2.21's reference {@code SubElementwise} does (older TFLite negated the second
 * multiplier instead, which rounds ties differently: the real interpreter confirms the subtraction).
 */
final class ArithmeticEmitter implements KernelEmitter {
  /** ADD/SUB scale both inputs by 2^20 before requantizing (int8). */
  static final int ADD_LEFT_SHIFT = 20;
  /**
   * From this many output elements on, int8 ADD/SUB read both rescaled inputs as a line plus a
   * 256-entry int8 residual table each ({@link Split}, 512 bytes of constants) instead of rescaling
   * every element: about 3x faster.
   */
  static final int ADD_TABLE_MIN_ELEMENTS = 1024;

  private final OpType type;

  ArithmeticEmitter(OpType type) {
    if (type != OpType.ADD && type != OpType.SUB && type != OpType.MUL) throw new IllegalArgumentException(type.toString());
    this.type = type;
  }

  @Override public void check(Op op) {
    if (op.options() instanceof Options.QLinear) {
      QLinearEmitter.check(op);
      return;
    }
    requireArity(op, 2);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    Activation act = op.options(Options.Elementwise.class).activation();
    boolean int8 = a.dtype() == DType.INT8 && b.dtype() == DType.INT8 && out.dtype() == DType.INT8;
    boolean f32 = a.dtype() == DType.FLOAT32 && b.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32;
    if (!int8 && !f32) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles " + type
          + " on int8 (all three tensors) or float32 (all three)");
    }
    if (act == Activation.TANH || act == Activation.SIGN_BIT) {
      throw unsupported(op, "fused activation " + act + " is not supported (only NONE, RELU, RELU_N1_TO_1, RELU6)");
    }
    try {
      BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
    ElementwiseKernels.count(op, out);
    if (int8) {
      perTensor(op, a, "input 1");
      perTensor(op, b, "input 2");
      perTensor(op, out, "output");
      if (type == OpType.MUL) mulParams(op); else addParams(op);
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    if (op.options() instanceof Options.QLinear) {
      QLinearEmitter.emit(op, ctx);
      return;
    }
    check(op);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    Activation act = op.options(Options.Elementwise.class).activation();
    BroadcastPlan plan = BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    String name = type.name().toLowerCase(Locale.ROOT);
    String args = ctx.data(a) + ", " + ctx.data(b) + ", " + ctx.data(out);
    if (out.dtype() == DType.FLOAT32) {
      float[] range = FixedPoint.activationRangeFloat(act);
      String p = ctx.constant("kiln_arith_f32_params", name + op.index(), ElementwiseKernels.initializer(
          ".bc = " + plan.initializer(),
          ".act_min = " + CLiterals.f32(range[0]) + ", .act_max = " + CLiterals.f32(range[1])));
      ctx.body().line("kiln_" + name + "_f32(&" + p + ", " + args + ");");
      return;
    }
    if (type == OpType.MUL) {
      MulParams m = mulParams(op);
      String p = ctx.constant("kiln_mul_s8_params", name + op.index(), ElementwiseKernels.initializer(
          ".bc = " + plan.initializer(),
          ".input1_offset = " + m.input1Offset + ", .input2_offset = " + m.input2Offset,
          ".output_multiplier = " + CLiterals.i32(m.multiplier.multiplier())
              + ", .output_left_shift = " + Math.max(m.multiplier.shift(), 0)
              + ", .output_right_shift = " + Math.max(-m.multiplier.shift(), 0) + ", .output_offset = " + m.outputOffset,
          ".act_min = " + m.actMin + ", .act_max = " + m.actMax));
      ctx.body().line("kiln_mul_s8(&" + p + ", " + args + ");");
    } else {
      AddParams m = addParams(op);
      List<String> fields = new ArrayList<>(List.of(
          ".bc = " + plan.initializer(),
          ".input1_offset = " + m.input1Offset + ", .input1_multiplier = " + CLiterals.i32(m.input1.multiplier())
              + ", .input1_right_shift = " + -m.input1.shift(),
          ".input2_offset = " + m.input2Offset + ", .input2_multiplier = " + CLiterals.i32(m.input2.multiplier())
              + ", .input2_right_shift = " + -m.input2.shift(),
          ".output_multiplier = " + CLiterals.i32(m.output.multiplier()) + ", .output_right_shift = " + -m.output.shift()
              + ", .output_offset = " + m.outputOffset,
          ".act_min = " + m.actMin + ", .act_max = " + m.actMax));
      Split s1 = Split.of(rescaleTable(m.input1Offset, m.input1));
      Split s2 = Split.of(rescaleTable(m.input2Offset, m.input2));
      if (type == OpType.SUB && s2 != null) s2 = s2.negated(); // the kernel adds the two splits
      // the table path folds the output zero point into the rounding: |z_out * 2^R| <= 2^30 needs R <= 23
      if (out.elements() >= ADD_TABLE_MIN_ELEMENTS && s1 != null && s2 != null && -m.output.shift() <= 23) {
        fields.add(".input1_base = " + s1.base + ", .input1_step = " + s1.step + ", .input2_base = " + s2.base
            + ", .input2_step = " + s2.step);
        fields.add(".input1_residual = " + ctx.tableI8(name + op.index() + "_residual1", s1.residual)
            + ", .input2_residual = " + ctx.tableI8(name + op.index() + "_residual2", s2.residual));
      }
      String p = ctx.constant("kiln_add_s8_params", name + op.index(), ElementwiseKernels.initializer(fields.toArray(new String[0])));
      ctx.body().line("kiln_" + name + "_s8(&" + p + ", " + args + ");");
    }
  }

  /** Entry code + 128: RDBPOT(SRDHM((code + offset) * 2^20, q), -shift), ADD's rescaled input. */
  static int[] rescaleTable(int offset, Multiplier m) {
    int[] t = new int[256];
    for (int code = -128; code <= 127; code++) {
      int shifted = (code + offset) * (1 << ADD_LEFT_SHIFT);
      t[code + 128] = FixedPoint.rdbpot(FixedPoint.srdhm(shifted, m.multiplier()), -m.shift());
    }
    return t;
  }

  /**
   * A rescale table t (entry code + 128) as the kernel reads it: t[code + 128] = base + code * step +
   * residual[code + 128] with residuals in [-127, 127] (so the negated split of SUB's input 2 is one
   * too). The entries round code * c twice, so they lie within 1 of a line of slope c, and with step
   * floor(c) or ceil(c), whichever is nearer, the residuals span at most about 255 * min(frac(c),
   * 1 - frac(c)) + 2 <= 130. Checked here anyway: null if neither step fits (the kernel then rescales
   * every element).
   */
  record Split(int base, int step, byte[] residual) {
    static Split of(int[] t) {
      long slope = Math.floorDiv((long) t[255] - t[0], 255);
      for (long step : new long[] {slope, slope + 1}) {
        long[] raw = new long[256];
        long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
        for (int j = 0; j < 256; j++) {
          raw[j] = t[j] - (j - 128) * step;
          min = Math.min(min, raw[j]);
          max = Math.max(max, raw[j]);
        }
        if (max - min > 254 || Math.abs(step) > (1 << 20) || Math.abs(min + 127) > (1 << 30)) continue;
        byte[] residual = new byte[256];
        for (int j = 0; j < 256; j++) residual[j] = (byte) (raw[j] - min - 127);
        return new Split((int) (min + 127), (int) step, residual);
      }
      return null;
    }

    /** The split of -t. */
    Split negated() {
      byte[] r = new byte[256];
      for (int j = 0; j < 256; j++) r[j] = (byte) -residual[j];
      return new Split(-base, -step, r);
    }
  }

  /** int8 ADD/SUB Prepare (section 6.1). */
  record AddParams(int input1Offset, Multiplier input1, int input2Offset, Multiplier input2,
                   Multiplier output, int outputOffset, int actMin, int actMax) {}

  AddParams addParams(Op op) {
    Quantization q1 = op.input(0).quantization();
    Quantization q2 = op.input(1).quantization();
    Quantization qo = op.output().quantization();
    float s1 = q1.scale();
    float s2 = q2.scale();
    float so = qo.scale();
    double twiceMax = 2 * Math.max(s1, s2); // float32, exact
    double m1 = (double) s1 / twiceMax;
    double m2 = (double) s2 / twiceMax;
    double mo = twiceMax / ((1 << ADD_LEFT_SHIFT) * (double) so);
    if (!(mo < 1.0)) {
      throw unsupported(op, String.format(Locale.ROOT, "the output scale %s is too small for the input scales %s and %s "
          + "(2*max(s1,s2) / (2^20*s_out) = %.6g must be < 1, as TFLite requires); re-quantize the model", so, s1, s2, mo));
    }
    if (!(mo > 0) || !(m1 > 0) || !(m2 > 0)) {
      throw unsupported(op, "a multiplier underflows to 0 for scales " + s1 + ", " + s2 + " -> " + so);
    }
    Multiplier r1 = FixedPoint.quantizeMultiplier(m1);
    Multiplier r2 = FixedPoint.quantizeMultiplier(m2);
    Multiplier ro = FixedPoint.quantizeMultiplier(mo);
    int[] range = FixedPoint.activationRangeInt8(op.options(Options.Elementwise.class).activation(), so, qo.zeroPoint());
    return new AddParams(-q1.zeroPoint(), r1, -q2.zeroPoint(), r2, ro, qo.zeroPoint(), range[0], range[1]);
  }

  /** int8 MUL Prepare (section 6.2): the real multiplier is computed in float32. */
  record MulParams(int input1Offset, int input2Offset, Multiplier multiplier, int outputOffset, int actMin, int actMax) {}

  MulParams mulParams(Op op) {
    Quantization q1 = op.input(0).quantization();
    Quantization q2 = op.input(1).quantization();
    Quantization qo = op.output().quantization();
    float s1 = q1.scale();
    float s2 = q2.scale();
    float so = qo.scale();
    float prod = s1 * s2;
    float real = prod / so;
    if (!(real > 0) || Float.isInfinite(real)) {
      throw unsupported(op, "the multiplier s1*s2/s_out = " + real + " (float32) is not a finite positive number");
    }
    Multiplier m = FixedPoint.quantizeMultiplier(real);
    int left = Math.max(m.shift(), 0);
    long maxProduct = (long) maxAbs(q1.zeroPoint()) * maxAbs(q2.zeroPoint());
    if (left > 30 || (maxProduct << left) >= (1L << 31)) {
      throw unsupported(op, "the multiplier s1*s2/s_out = " + real + " needs a left shift of " + left
          + ", which overflows 32-bit arithmetic for these zero points (TFLite's result would be undefined); "
          + "re-quantize the model with a larger output scale");
    }
    int[] range = FixedPoint.activationRangeInt8(op.options(Options.Elementwise.class).activation(), so, qo.zeroPoint());
    return new MulParams(-q1.zeroPoint(), -q2.zeroPoint(), m, qo.zeroPoint(), range[0], range[1]);
  }

  /** max |q - z| over int8 codes q. */
  private static int maxAbs(int zeroPoint) { return Math.max(127 - zeroPoint, zeroPoint + 128); }

  @Override public String toString() { return "ArithmeticEmitter[" + type + "]"; }
}
