package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
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
import java.util.Locale;

/**
 * The 16x8 scheme's int16 forms (activations int16 with zero point 0): ADD and SUB with general
 * scales (TFLite's int8 arithmetic with a left shift of 15), MUL, QUANTIZE float32 -> int16 and the
 * int16 <-> int8 requantizations, DEQUANTIZE int16 -> float32, LEAKY_RELU. Ops without an int16
 * tensor go to the other emitters ({@link MathKernels.ByInputType}).
 */
final class Int16Emitter implements KernelEmitter {
  static final int ADD_LEFT_SHIFT = 15;

  private final OpType type;

  Int16Emitter(OpType type) { this.type = type; }

  /** True if any tensor of {@code op} is int16. */
  static boolean involvesInt16(Op op) {
    if (op.outputs().stream().anyMatch(t -> t.dtype() == DType.INT16)) return true;
    return op.inputs().stream().anyMatch(t -> t != null && t.dtype() == DType.INT16);
  }

  /** Per-tensor int16 quantization with zero point 0, as TFLite's 16x8 kernels require. */
  static Quantization int16(Op op, Tensor t, String role) {
    Quantization q = t.quantization();
    if (t.dtype() != DType.INT16) {
      throw unsupported(op, role + " '" + t.name() + "' is " + t.dtype() + "; in the 16x8 scheme " + op.type()
          + " reads and writes int16 here");
    }
    if (!q.isQuantized() || q.isPerChannel() || q.zeroPoint() != 0 || !(q.scale() > 0) || Float.isInfinite(q.scale())) {
      throw unsupported(op, role + " '" + t.name() + "' has quantization " + q + "; int16 tensors need one finite"
          + " positive scale and zero point 0 (TFLite's 16x8 scheme)");
    }
    return q;
  }

  @Override public void check(Op op) {
    params(op, null);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    params(op, ctx);
  }

  /** Checks {@code op}; with a context, also emits it. */
  private void params(Op op, KernelContext ctx) {
    String name = type.name().toLowerCase(Locale.ROOT);
    switch (type) {
      case ADD, SUB -> {
        requireArity(op, 2);
        Options.Elementwise o = op.options(Options.Elementwise.class);
        if (o.potScaleInt16()) {
          throw unsupported(op, "has pot_scale_int16 set (TFLite's power-of-two-scale int16 kernel), which Kiln does not"
              + " compile; convert with the TFLite converter's 16x8 mode, which writes pot_scale_int16 = false");
        }
        Quantization q1 = int16(op, op.input(0), "input 1");
        Quantization q2 = int16(op, op.input(1), "input 2");
        Quantization qo = int16(op, op.output(), "output");
        BroadcastPlan plan = plan(op);
        double twiceMax = 2 * Math.max(q1.scale(), q2.scale());
        double mo = twiceMax / ((1 << ADD_LEFT_SHIFT) * (double) qo.scale());
        if (!(mo < 1.0)) {
          throw unsupported(op, "the output scale " + qo.scale() + " is too small for the input scales (2*max(s1,s2) /"
              + " (2^15*s_out) = " + mo + " must be < 1, as TFLite requires); re-quantize the model");
        }
        Multiplier m1 = FixedPoint.quantizeMultiplier(q1.scale() / twiceMax);
        Multiplier m2 = FixedPoint.quantizeMultiplier(q2.scale() / twiceMax);
        Multiplier m0 = FixedPoint.quantizeMultiplier(mo);
        int[] range = range(o.activation(), qo);
        if (ctx == null) return;
        String p = ctx.constant("kiln_add_s16_params", name + op.index(), ElementwiseKernels.initializer(
            ".bc = " + plan.initializer(),
            ".input1_offset = 0, .input1_multiplier = " + CLiterals.i32(m1.multiplier()) + ", .input1_right_shift = " + -m1.shift(),
            ".input2_offset = 0, .input2_multiplier = " + CLiterals.i32(m2.multiplier()) + ", .input2_right_shift = " + -m2.shift(),
            ".output_multiplier = " + CLiterals.i32(m0.multiplier()) + ", .output_right_shift = " + -m0.shift()
                + ", .output_offset = 0",
            ".act_min = " + range[0] + ", .act_max = " + range[1]));
        call(ctx, "kiln_" + name + "_s16(&" + p, op.input(0), op.input(1), op.output());
      }
      case MUL -> {
        requireArity(op, 2);
        Quantization q1 = int16(op, op.input(0), "input 1");
        Quantization q2 = int16(op, op.input(1), "input 2");
        Quantization qo = int16(op, op.output(), "output");
        BroadcastPlan plan = plan(op);
        float real = q1.scale() * q2.scale() / qo.scale();
        Multiplier m = FixedPoint.quantizeMultiplier(real);
        if (m.shift() > 0) {
          throw unsupported(op, "the multiplier s1*s2/s_out = " + real + " is 1 or more, which overflows 32-bit arithmetic"
              + " on int16 products (TFLite's result would be undefined); re-quantize with a larger output scale");
        }
        int[] range = range(op.options(Options.Elementwise.class).activation(), qo);
        if (ctx == null) return;
        String p = ctx.constant("kiln_mul_s16_params", name + op.index(), ElementwiseKernels.initializer(
            ".bc = " + plan.initializer(),
            ".input1_offset = 0, .input2_offset = 0",
            ".output_multiplier = " + CLiterals.i32(m.multiplier()) + ", .output_shift = " + m.shift() + ", .output_offset = 0",
            ".act_min = " + range[0] + ", .act_max = " + range[1]));
        call(ctx, "kiln_mul_s16(&" + p, op.input(0), op.input(1), op.output());
      }
      case QUANTIZE -> {
        requireArity(op, 1);
        Tensor in = op.input(0);
        Tensor out = op.output();
        requireSameShape(op, in, out);
        int n = ElementwiseKernels.count(op, in);
        if (in.dtype() == DType.FLOAT32) {
          Quantization qo = int16(op, out, "output");
          if (QuantizeEmitter.halfToEven(op)) {
            throw unsupported(op, "rounds ties to even (ONNX QuantizeLinear); Kiln's int16 QUANTIZE follows TFLite"
                + " (ties away from zero)");
          }
          if (ctx != null) {
            ctx.body().line("kiln_quantize_f32_s16(" + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ", "
                + CLiterals.f32(qo.scale()) + ", 0);");
          }
          return;
        }
        boolean fromInt16 = in.dtype() == DType.INT16;
        if (!fromInt16) {
          throw unsupported(op, "dtypes " + ElementwiseKernels.dtypes(op) + " are not supported; Kiln requantizes"
              + " int16 -> int8 and int16 -> int16 (TFLite has no other int16 requantization)");
        }
        Quantization qi = int16(op, in, "input");
        Quantization qo = out.dtype() == DType.INT16 ? int16(op, out, "output") : ElementwiseKernels.perTensor(op, out, "output");
        if (!(fromInt16 && (out.dtype() == DType.INT8 || out.dtype() == DType.INT16))) {
          throw unsupported(op, "dtypes " + ElementwiseKernels.dtypes(op) + " are not supported; Kiln requantizes"
              + " int16 -> int8 and int16 -> int16 (TFLite has no other int16 requantization)");
        }
        Multiplier m = FixedPoint.quantizeMultiplier((double) qi.scale() / (double) qo.scale());
        if (m.shift() > 0 && 32768L << m.shift() >= (1L << 31)) {
          throw unsupported(op, "the scale ratio s_in/s_out = " + (double) qi.scale() / qo.scale() + " overflows 32-bit"
              + " arithmetic (TFLite's result would be undefined); check the quantization parameters");
        }
        if (ctx == null) return;
        String p = ctx.constant("kiln_requantize_params", "requantize" + op.index(), ElementwiseKernels.initializer(
            ".input_offset = " + -qi.zeroPoint() + ", .multiplier = " + CLiterals.i32(m.multiplier()) + ", .shift = "
                + m.shift() + ", .output_offset = " + qo.zeroPoint()));
        ctx.body().line("kiln_requantize_" + MathKernels.suffix(in.dtype()).replace("i16", "s16") + "_"
            + MathKernels.suffix(out.dtype()).replace("i16", "s16") + "(&" + p + ", " + ctx.data(in) + ", " + ctx.data(out)
            + ", " + n + ");");
      }
      case DEQUANTIZE -> {
        requireArity(op, 1);
        Tensor in = op.input(0);
        Tensor out = op.output();
        requireSameShape(op, in, out);
        Quantization qi = int16(op, in, "input");
        if (out.dtype() != DType.FLOAT32) {
          throw unsupported(op, "output '" + out.name() + "' is " + out.dtype() + "; DEQUANTIZE writes float32");
        }
        if (ctx == null) return;
        ctx.body().line("kiln_dequantize_s16_f32(" + ctx.data(in) + ", " + ctx.data(out) + ", " + ElementwiseKernels.count(op, in)
            + ", " + CLiterals.f32(qi.scale()) + ", 0);");
      }
      case LEAKY_RELU -> {
        requireArity(op, 1);
        Tensor in = op.input(0);
        Tensor out = op.output();
        requireSameShape(op, in, out);
        float sIn = int16(op, in, "input").scale();
        float sOut = int16(op, out, "output").scale();
        float alpha = op.options(Options.LeakyRelu.class).alpha();
        float alphaRatio = sIn * alpha / sOut;
        float identityRatio = sIn / sOut;
        if (!(alphaRatio >= 0) || Float.isInfinite(alphaRatio) || Float.isInfinite(identityRatio)) {
          throw unsupported(op, "alpha " + alpha + " gives the multiplier s_in*alpha/s_out = " + alphaRatio
              + "; TFLite's int16 kernel needs a finite non-negative one");
        }
        Multiplier ma = FixedPoint.quantizeMultiplier(alphaRatio);
        Multiplier mi = FixedPoint.quantizeMultiplier(identityRatio);
        if (Math.max(ma.shift(), mi.shift()) > 15) {
          throw unsupported(op, "the scale ratios need a left shift over 15, which overflows 32-bit arithmetic; re-quantize");
        }
        if (ctx == null) return;
        String p = ctx.constant("kiln_leaky_relu_s16_params", "leaky_relu" + op.index(), ElementwiseKernels.initializer(
            ".input_offset = 0, .output_offset = 0",
            ".multiplier_identity = " + CLiterals.i32(mi.multiplier()) + ", .shift_identity = " + mi.shift(),
            ".multiplier_alpha = " + CLiterals.i32(ma.multiplier()) + ", .shift_alpha = " + ma.shift()));
        ctx.body().line("kiln_leaky_relu_s16(&" + p + ", " + ctx.data(in) + ", " + ctx.data(out) + ", "
            + ElementwiseKernels.count(op, in) + ");");
      }
      case SOFTMAX -> {
        requireArity(op, 1);
        Tensor in = op.input(0);
        Tensor out = op.output();
        requireSameShape(op, in, out);
        if (in.rank() < 1) throw unsupported(op, "the input is a scalar; SOFTMAX needs at least one dimension");
        float sIn = int16(op, in, "input").scale();
        float sOut = int16(op, out, "output").scale();
        if (Math.abs(sOut - 1f / 32768) > 0.001f / 32768) {
          throw unsupported(op, "the int16 output must have scale 1/32768 and zero point 0 (TFLite requires it), found "
              + out.quantization() + "; convert the model with the TFLite converter's 16x8 mode");
        }
        float beta = op.options(Options.Softmax.class).beta();
        double real = (double) (sIn * beta) / (10.0 / 65535.0);
        if (!(real > 0) || Double.isInfinite(real)) throw unsupported(op, "beta * input scale = " + sIn * beta + " is not positive");
        Multiplier m = FixedPoint.quantizeMultiplier(real);
        if (m.shift() > 15) {
          throw unsupported(op, "beta * input scale = " + sIn * beta + " needs a left shift of " + m.shift()
              + ", which overflows 32-bit arithmetic on int16 differences; re-quantize the input");
        }
        int depth = in.dim(-1);
        int rows = depth == 0 ? 0 : (int) (ElementwiseKernels.count(op, in) / depth);
        if (ctx == null) return;
        if (rows == 0) {
          ctx.body().comment("SOFTMAX op #" + op.index() + ": empty tensor, nothing to do");
          return;
        }
        String exp = ctx.constant("kiln_lut16", "softmax_exp_lut", lut16(genLut(Math::exp, -10.0, 0.0, -1.0, 1.0)));
        String rec = ctx.constant("kiln_lut16", "softmax_one_over_one_plus_x_lut",
            lut16(genLut(v -> 1.0 / (1.0 + v), 0.0, 1.0, -1.0, 1.0)));
        String p = ctx.constant("kiln_softmax_s16_params", "softmax" + op.index(), ElementwiseKernels.initializer(
            ".rows = " + rows + ", .depth = " + depth,
            ".input_multiplier = " + CLiterals.i32(m.multiplier()) + ", .input_shift = " + m.shift(),
            ".exp_lut = &" + exp + ", .one_over_one_plus_x_lut = &" + rec));
        ctx.body().line("kiln_softmax_s16(&" + p + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
      }
      default -> throw unsupported(op, "int16 tensors are not supported for " + type + "; Kiln's 16x8 scheme covers ADD,"
          + " SUB, MUL, QUANTIZE, DEQUANTIZE, LEAKY_RELU and SOFTMAX");
    }
  }

  /**
   * TFLite's gen_lut for int16 tables (double arithmetic, TfLiteRound): 512 samples of {@code func} on
   * [inputMin, inputMax] scaled to [outputMin, outputMax] -> int16, each biased by half the error of linear
   * interpolation at the midpoint, plus the value at inputMax (entry 512).
   */
  static short[] genLut(java.util.function.DoubleUnaryOperator func, double inputMin, double inputMax, double outputMin,
                        double outputMax) {
    int steps = 512;
    double step = (inputMax - inputMin) / steps;
    double halfStep = step / 2;
    double scale = 65536.0 / (outputMax - outputMin);
    short[] lut = new short[steps + 1];
    for (int i = 0; i < steps; i++) {
      double val = func.applyAsDouble(inputMin + i * step);
      double midpoint = func.applyAsDouble(inputMin + i * step + halfStep);
      double next = func.applyAsDouble(inputMin + (i + 1) * step);
      double sample = FixedPoint.rhaz(val * scale);
      double interpolated = FixedPoint.rhaz((next * scale + FixedPoint.rhaz(val * scale)) / 2);
      double midpointValue = FixedPoint.rhaz(midpoint * scale);
      double bias = FixedPoint.rhaz((interpolated - midpointValue) / 2);
      lut[i] = (short) Math.min(Math.max(sample - bias, -32768), 32767);
    }
    lut[steps] = (short) Math.min(Math.max(FixedPoint.rhaz(func.applyAsDouble(inputMax) * scale), -32768), 32767);
    return lut;
  }

  private static String lut16(short[] v) {
    StringBuilder sb = new StringBuilder("{{");
    for (int i = 0; i < v.length; i++) {
      sb.append(i == 0 ? "" : ",").append(i % 16 == 0 ? "\n  " : " ").append(v[i]);
    }
    return sb.append("}}").toString();
  }

  private static BroadcastPlan plan(Op op) {
    try {
      BroadcastPlan p = BroadcastPlan.of(op.input(0).shape(), op.input(1).shape(), op.output().shape());
      ElementwiseKernels.count(op, op.output());
      return p;
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
  }

  private static void call(KernelContext ctx, String head, Tensor a, Tensor b, Tensor out) {
    ctx.body().line(head + ", " + ctx.data(a) + ", " + ctx.data(b) + ", " + ctx.data(out) + ");");
  }

  /** CalculateActivationRangeQuantized for int16. */
  static int[] range(Activation act, Quantization qo) {
    int lo = -32768;
    int hi = 32767;
    float s = qo.scale();
    int z = qo.zeroPoint();
    return switch (act) {
      case RELU -> new int[] {Math.max(lo, z + FixedPoint.rhaz(0f / s)), hi};
      case RELU6 -> new int[] {Math.max(lo, z + FixedPoint.rhaz(0f / s)), Math.min(hi, z + FixedPoint.rhaz(6f / s))};
      case RELU_N1_TO_1 -> new int[] {Math.max(lo, z + FixedPoint.rhaz(-1f / s)), Math.min(hi, z + FixedPoint.rhaz(1f / s))};
      default -> new int[] {lo, hi};
    };
  }

  @Override public String toString() { return "Int16Emitter[" + type + "]"; }
}
