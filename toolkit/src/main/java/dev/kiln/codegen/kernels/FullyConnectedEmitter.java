package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.LinearRescale;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.function.LongUnaryOperator;

/**
 * FULLY_CONNECTED (tflite-numerics.md 3.3): the input is viewed as [numel / depth, depth], weights
 * are [units, depth] in the DEFAULT layout (the frontend rejects shuffled weights), the bias is
 * optional. int8 uses TF 2.21's reference rescale {@code round(double(acc) * s_in * s_w / s_out)}
 * (per-tensor weights may have a zero point; per-channel weights must be symmetric), on the device
 * as an integer multiply-add-shift proven equal for every accumulator ({@link LinearRescale}) or,
 * where none exists, an exact emulation of the double product (kiln_f64_rescale); float32 is
 * the plain dot product; hybrid (float32 input/output, int8 symmetric weights, per-tensor or
 * per-channel) quantizes each input row into scratch, symmetrically or with a per-row zero point
 * as asymmetric_quantize_inputs says. keep_num_dims only changes the output
 * shape, which the caller already gives.
 */
final class FullyConnectedEmitter implements KernelEmitter {
  private enum Kind { INT8, FLOAT, HYBRID }

  /** The deepest input kiln_fully_connected_s8's DSP path takes: KILN_FC_DSP_DEPTH_MAX in kiln_nn_fc.c. */
  static final int DSP_DEPTH_MAX = 1024;

  private record Layout(Kind kind, Tensor in, Tensor weights, Tensor bias, Tensor out, int batches, int depth, int units) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.FullyConnected o = op.options(Options.FullyConnected.class);
    NnSupport.requireClampActivation(op, o.activation());
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor w = NnSupport.requireInput(op, 1, "weights");
    Tensor bias = op.input(2);
    Tensor out = op.output();
    NnSupport.requireRank(op, w, "the weights", 2);
    NnSupport.requireNonEmpty(op, in, "the input");
    NnSupport.requireNonEmpty(op, w, "the weights");
    int units = w.dim(0);
    int depth = w.dim(1);
    if (in.elements() % depth != 0) {
      throw unsupported(op, "the input " + shape(in) + " has " + in.elements() + " elements, not a multiple of the weights' depth "
          + depth);
    }
    long batches = in.elements() / depth;
    if (out.elements() != batches * units) {
      throw unsupported(op, "the output " + shape(out) + " should hold " + batches + " x " + units + " elements");
    }
    DType di = in.dtype();
    DType dw = w.dtype();
    DType dout = out.dtype();
    Kind kind;
    if (di == DType.INT8 && dw == DType.INT8 && dout == DType.INT8) {
      kind = Kind.INT8;
      NnSupport.requireInt32Bias(op, bias, units);
    } else if (di == DType.FLOAT32 && dw == DType.FLOAT32 && dout == DType.FLOAT32) {
      kind = Kind.FLOAT;
      NnSupport.requireFloatBias(op, bias, units);
    } else if (di == DType.FLOAT32 && dw == DType.INT8 && dout == DType.FLOAT32) {
      kind = Kind.HYBRID;
      NnSupport.requireFloatBias(op, bias, units);
    } else {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles int8 (int8 weights, int32 bias), "
          + "float32 and hybrid float32 input with int8 weights");
    }
    return new Layout(kind, in, w, bias, out, (int) batches, depth, units);
  }

  @Override public void check(Op op) {
    Layout l = layout(op);
    if (l.kind == Kind.INT8) {
      int8Scales(op, l);
    } else if (l.kind == Kind.HYBRID) {
      hybridScales(op, l);
      requireAsymmetricKnown(op);
    }
  }

  @Override public int scratchBytes(Op op) {
    Layout l = layout(op);
    return l.kind == Kind.HYBRID ? l.depth : 0;
  }

  /** M_u = f64(s_in) * f64(s_w[u]) / f64(s_out) per unit (or one for per-tensor weights). */
  private double[] int8Scales(Op op, Layout l) {
    Quantization qi = NnSupport.perTensor(op, l.in, "the input");
    Quantization qo = NnSupport.perTensor(op, l.out, "the output");
    Quantization qw = l.weights.quantization();
    float[] ws = NnSupport.weightScales(op, l.weights, "the weights", 0, l.units);
    if (qw.isPerChannel()) {
      for (int u = 0; u < qw.count(); u++) {
        if (qw.zeroPoint(u) != 0) {
          throw unsupported(op, "the per-channel weights '" + l.weights.name() + "' have zero point " + qw.zeroPoint(u)
              + " in channel " + u + "; TFLite needs symmetric (zero point 0) per-channel weights");
        }
      }
    } else if (qw.zeroPoint() < -128 || qw.zeroPoint() > 127) {
      throw unsupported(op, "the weights '" + l.weights.name() + "' have zero point " + qw.zeroPoint() + " outside [-128, 127]");
    }
    double[] m = new double[qw.isPerChannel() ? l.units : 1];
    for (int u = 0; u < m.length; u++) {
      m[u] = (double) qi.scale() * (double) ws[u] / (double) qo.scale();
      if (Double.isInfinite(m[u]) || Double.isNaN(m[u])) {
        throw unsupported(op, "the rescale factor input scale * weight scale / output scale is " + m[u]);
      }
    }
    return m;
  }

  /** The hybrid weights' scales (one, or one per unit), checked symmetric. */
  private float[] hybridScales(Op op, Layout l) {
    Quantization q = l.weights.quantization();
    float[] ws = NnSupport.weightScales(op, l.weights, "the weights", 0, l.units);
    for (int u = 0; u < q.count(); u++) {
      if (q.zeroPoint(u) != 0) {
        throw unsupported(op, "is a hybrid FULLY_CONNECTED whose int8 weights have zero point " + q.zeroPoint(u)
            + "; TFLite's hybrid kernels need symmetric weights (zero point 0)");
      }
    }
    return q.isPerChannel() ? ws : new float[] {ws[0]};
  }

  /**
   * FullyConnectedOptions.asymmetric_quantize_inputs, which decides how a hybrid op quantizes its
   * input rows (the TF 2.21 converter sets it for every dynamic-range FULLY_CONNECTED).
   */
  private boolean requireAsymmetricKnown(Op op) {
    return op.options(Options.FullyConnected.class).asymmetricQuantizeInputs();
  }

  /**
   * For each M, the integer rescale ({@link LinearRescale}) proven equal to TF 2.21's
   * {@code clamp(round(double(acc) * M) + zeroPoint, lo, hi)} for every int32 acc, as
   * KILN_RESCALE_WORDS words per entry; null if some M has none (the kernel then emulates the
   * double product).
   */
  static int[] integerRescales(double[] m, int zeroPoint, int lo, int hi) {
    int[] words = new int[m.length * LinearRescale.WORDS];
    for (int u = 0; u < m.length; u++) {
      LinearRescale.Rescale r = LinearRescale.fit(doubleRescale(m[u], zeroPoint, lo, hi), m[u], zeroPoint, lo, hi,
          Integer.MIN_VALUE, Integer.MAX_VALUE);
      if (r == null) return null;
      System.arraycopy(r.words(), 0, words, LinearRescale.WORDS * u, LinearRescale.WORDS);
    }
    return words;
  }

  /**
   * Options.Requantize.ONNXRUNTIME (a fused QDQ Gemm or MatMul: onnxruntime's QGemm,
   * QLinearMatMul), per entry (one per unit, or one for per-tensor weights): the exact integer
   * rescale of {@code rne(float32(acc) * float32(float32(s_in * s_w) / s_out))}, proven over every
   * accumulator the unit can produce (bounded from constant weights and bias, else all of int32),
   * or, where none exists, that float arithmetic itself ({@link LinearRescale#floatWords}), so
   * every unit gives onnxruntime's code; KILN_RESCALE_WORDS words per entry.
   */
  private int[] onnxruntimeRescales(Op op, Layout l, int entries, int[] act) {
    Quantization qi = l.in.quantization();
    Quantization qw = l.weights.quantization();
    Quantization qo = l.out.quantization();
    float[] ws = NnSupport.weightScales(op, l.weights, "the weights", 0, l.units);
    long[] bound = accumulatorBound(l, qi.zeroPoint(), qw.isPerChannel() ? 0 : qw.zeroPoint());
    int[] words = new int[entries * LinearRescale.WORDS];
    for (int e = 0; e < entries; e++) {
      float m = qi.scale() * ws[e] / qo.scale();
      long b = Integer.MAX_VALUE;
      if (bound != null) {
        b = 0;
        for (int u = entries == 1 ? 0 : e; u < (entries == 1 ? l.units : e + 1); u++) b = Math.max(b, bound[u]);
      }
      System.arraycopy(ConvEmitter.onnxruntimeWords(m, qo.zeroPoint(), act[0], act[1], b), 0, words, e * LinearRescale.WORDS,
          LinearRescale.WORDS);
    }
    return words;
  }

  /** max |accumulator| per unit from constant weights (less their zero point) and bias, or null. */
  private static long[] accumulatorBound(Layout l, int inputZeroPoint, int weightZeroPoint) {
    if (!l.weights.isConstant() || (l.bias != null && !l.bias.isConstant())) return null;
    byte[] w = l.weights.data();
    long[] bound = new long[l.units];
    for (int i = 0; i < w.length; i++) bound[i / l.depth] += Math.abs((long) w[i] - weightZeroPoint);
    long x = NnSupport.maxAbsInput(inputZeroPoint);
    int[] b = l.bias == null ? null : NnSupport.int32Data(l.bias);
    for (int u = 0; u < l.units; u++) bound[u] = bound[u] * x + (b == null ? 0 : Math.abs((long) b[u]));
    return bound;
  }

  /** TF 2.21's reference FC requantization of an accumulator, zero point added and clamped. */
  static LongUnaryOperator doubleRescale(double m, int zeroPoint, int lo, int hi) {
    return acc -> Math.max(lo, Math.min(hi, FixedPoint.rhaz((double) acc * m) + zeroPoint));
  }

  /** A positive finite double as {mantissa >> 32, mantissa low word, exponent}: M = mantissa * 2^exponent. */
  static int[] f64Words(double m) {
    if (m == 0) return new int[] {0, 0, 0};
    long bits = Double.doubleToRawLongBits(m);
    int e = (int) ((bits >>> 52) & 0x7ff);
    long fraction = bits & ((1L << 52) - 1);
    long mantissa = e == 0 ? fraction : fraction | (1L << 52);
    int exponent = e == 0 ? -1074 : e - 1075;
    return new int[] {(int) (mantissa >>> 32), (int) mantissa, exponent};
  }

  /** KILN_RESCALE_ROUNDED in kiln_nn_util.h. */
  static final int RESCALE_ROUNDED = 64;

  /**
   * A one-entry rescale table in its 2-word rounded form {multiplier, shift + RESCALE_ROUNDED} when
   * both offsets are 2^(shift - 1) (the same rescale, kiln_rescale_load_one); else the table as it is.
   */
  static int[] rounded(int[] table) {
    if (table.length != LinearRescale.WORDS) return table;
    int shift = table[1];
    long nonNegative = ((long) table[2] << 32) | (table[3] & 0xffffffffL);
    long negative = ((long) table[4] << 32) | (table[5] & 0xffffffffL);
    if (shift < 1 || shift > 62 || nonNegative != 1L << (shift - 1) || negative != nonNegative) return table;
    return new int[] {table[0], shift + RESCALE_ROUNDED};
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.FullyConnected o = op.options(Options.FullyConnected.class);
    NnSupport.Init init = new NnSupport.Init().dim("batches", l.batches).dim("depth", l.depth).dim("units", l.units);
    String bias = l.bias == null ? "NULL" : ctx.data(l.bias);
    String call;
    switch (l.kind) {
      case INT8 -> {
        double[] m = int8Scales(op, l);
        Quantization qi = l.in.quantization();
        Quantization qw = l.weights.quantization();
        Quantization qo = l.out.quantization();
        int[] act = NnSupport.actRangeInt8(o.activation(), qo);
        init.put("out.s8.input_offset", -qi.zeroPoint()).put("out.s8.filter_offset", qw.isPerChannel() ? 0 : -qw.zeroPoint())
            .put("output_offset", qo.zeroPoint()).put("act_min", act[0]).put("act_max", act[1])
            .put("per_channel", m.length > 1 ? 1 : 0);
        int[] exact = o.requantize() == Options.Requantize.ONNXRUNTIME
            ? onnxruntimeRescales(op, l, m.length, act)
            : integerRescales(m, qo.zeroPoint(), act[0], act[1]);
        if (exact != null) {
          ConvEmitter.useFloatForm(ctx, exact, m.length == 1 ? "per-tensor rescales" : "units");
          init.raw("out.s8.out_rescale", ctx.tableI32("fc_rescale", rounded(exact)));
        } else {
          int[] words = new int[m.length * 3];
          for (int u = 0; u < m.length; u++) System.arraycopy(f64Words(m[u]), 0, words, 3 * u, 3);
          init.raw("out.s8.out_scale", ctx.tableI32("fc_rescale", words));
        }
        String params = ctx.constant("kiln_fc_params", "fc", init.useDims(ctx, op).toString());
        // the DSP path of a Cortex-M4/M7 build takes blocks of 4 units of at most DSP_DEPTH_MAX values
        if (l.units >= 4 && l.depth <= DSP_DEPTH_MAX) {
          ctx.useKernelSwitch("KILN_FC_S8_DSP_USED", l.units + " units of depth " + l.depth);
        }
        if (l.units % 4 != 0 || l.depth > DSP_DEPTH_MAX) {
          ctx.useKernelSwitch("KILN_FC_S8_PORTABLE_USED", l.units + " units of depth " + l.depth
              + " (the DSP path takes units by 4, depths up to " + DSP_DEPTH_MAX + ")");
        }
        call = NnSupport.format("kiln_fully_connected_s8(&%s, %s, %s, %s, %s);", params, ctx.data(l.in),
            ctx.data(l.weights), bias, ctx.data(l.out));
      }
      case FLOAT -> {
        float[] act = FixedPoint.activationRangeFloat(o.activation());
        init.put("out.f32.act_min_f", act[0]).put("out.f32.act_max_f", act[1]);
        String params = ctx.constant("kiln_fc_params", "fc", init.useDims(ctx, op).toString());
        call = NnSupport.format("kiln_fully_connected_f32(&%s, %s, %s, %s, %s);", params, ctx.data(l.in),
            ctx.data(l.weights), bias, ctx.data(l.out));
      }
      default -> {
        float[] act = FixedPoint.activationRangeFloat(o.activation());
        float[] scales = hybridScales(op, l);
        init.put("out.f32.act_min_f", act[0]).put("out.f32.act_max_f", act[1]).put("asymmetric", requireAsymmetricKnown(op) ? 1 : 0);
        if (scales.length == 1) {
          init.put("out.f32.filter.scale", scales[0]);
        } else {
          init.put("per_channel", 1).raw("out.f32.filter.scales", ctx.tableF32("fc_filter_scales", scales));
        }
        String params = ctx.constant("kiln_fc_params", "fc", init.useDims(ctx, op).toString());
        call = NnSupport.format("kiln_fully_connected_hybrid_f32(&%s, %s, %s, %s, %s, %s);", params, ctx.data(l.in),
            ctx.data(l.weights), bias, ctx.data(l.out), ctx.scratch());
      }
    }
    ctx.body().line(call);
  }
}
