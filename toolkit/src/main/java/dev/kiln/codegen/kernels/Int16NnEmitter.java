package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16x8 scheme of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, as TFLite's converter makes it
 * with EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8: int16 input and output with
 * zero point 0, int8 symmetric weights (per channel or per tensor), int64 bias. Conv and depthwise: 64-bit sum, TFLite's 64-bit
 * MultiplyByQuantizedMultiplier ({@code kiln_mbqm64}) with the CONV_2D multipliers, clamp.
 * FULLY_CONNECTED: TF 2.21's reference rescales the sum with one rounding of a double product, as
 * for int8 (verified bit-exact on the fixtures; MBQM64 differs), so the sum must provably fit in
 * int32 and the same exact integer rescale as the int8 kernel is used.
 */
final class Int16NnEmitter implements KernelEmitter {
  private final OpType type;

  Int16NnEmitter(OpType type) {
    this.type = type;
  }

  // ---- shared checks (also used by TransposeConvEmitter) ------------------------------------

  /** An int8 or int16 activation's per-tensor quantization; int16 must have zero point 0 (TFLite's 16x8 rule). */
  static Quantization perTensor(Op op, Tensor t, String role) {
    if (t.dtype() != DType.INT16) return NnSupport.perTensor(op, t, role);
    Quantization q = t.quantization();
    if (!q.isQuantized() || q.isPerChannel()) {
      throw unsupported(op, role + " '" + t.name() + "' is int16 without one scale and zero point; quantize the model with "
          + "the 16x8 scheme (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)");
    }
    NnSupport.requireScale(op, t, role, q.scale());
    if (q.zeroPoint() != 0) {
      throw unsupported(op, role + " '" + t.name() + "' is int16 with zero point " + q.zeroPoint()
          + "; TFLite's 16x8 kernels need zero point 0");
    }
    return q;
  }

  static void requireInt64Bias(Op op, Tensor bias, int channels) {
    if (bias == null) return;
    if (bias.dtype() != DType.INT64) {
      throw unsupported(op, "the bias '" + bias.name() + "' is " + bias.dtype() + "; Kiln's 16x8 kernels need the int64 bias "
          + "TFLite's converter writes");
    }
    if (!bias.isConstant()) throw unsupported(op, "the bias '" + bias.name() + "' is not a constant; Kiln needs a constant bias");
    if (bias.elements() != channels) {
      throw unsupported(op, "the bias '" + bias.name() + "' has " + bias.elements() + " elements; expected " + channels);
    }
  }

  /** A constant int32 or int64 tensor's values. */
  static long[] integers(Tensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    long[] v = new long[(int) t.elements()];
    for (int i = 0; i < v.length; i++) v[i] = t.dtype() == DType.INT64 ? b.getLong() : b.getInt();
    return v;
  }

  /** kiln_mbqm64 needs shift <= 14 and |acc| < 2^47 (TFLite's own assumptions, checked here). */
  static void requireMbqm64Fits(Op op, FixedPoint.Multiplier[] m, long[] accBound) {
    for (int c = 0; c < m.length; c++) {
      if (m[c].shift() > 14) {
        throw unsupported(op, "output channel " + c + " has a requantization shift of " + m[c].shift()
            + " (input scale * weight scale / output scale >= 2^14), beyond TFLite's 16x8 requantization");
      }
      if (accBound[c] >= 1L << 47) {
        throw unsupported(op, "output channel " + c + " can accumulate up to " + accBound[c] + ", beyond 2^47 (TFLite's "
            + "16x8 requantization limit)");
      }
    }
  }

  // ---- layout -------------------------------------------------------------------------------

  private record Layout(Tensor in, Tensor w, Tensor bias, Tensor out, int channels) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor w = NnSupport.requireInput(op, 1, type == OpType.FULLY_CONNECTED ? "weights" : "filter");
    Tensor bias = op.input(2);
    Tensor out = op.output();
    if (in.dtype() != DType.INT16 || w.dtype() != DType.INT8 || out.dtype() != DType.INT16) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not the 16x8 scheme (int16 input and output, int8 weights, "
          + "int64 bias)");
    }
    if (!w.isConstant()) throw unsupported(op, "its weights '" + w.name() + "' are not constant; Kiln needs constant weights");
    NnSupport.requireNonEmpty(op, in, "the input");
    NnSupport.requireNonEmpty(op, w, "the weights");
    int channels = type == OpType.FULLY_CONNECTED ? w.dim(0) : type == OpType.CONV_2D ? w.dim(0) : w.dim(3);
    if (type == OpType.FULLY_CONNECTED) NnSupport.requireRank(op, w, "the weights", 2);
    requireInt64Bias(op, bias, channels);
    return new Layout(in, w, bias, out, channels);
  }

  /** Per channel, sum |w| * 32768 + |bias|: no int16 input can make |acc| larger. */
  private long[] accumulatorBound(Layout l) {
    byte[] w = l.w.data();
    int per = w.length / l.channels;
    long[] bias = l.bias == null ? null : integers(l.bias);
    long[] bound = new long[l.channels];
    boolean depthwise = type == OpType.DEPTHWISE_CONV_2D;
    for (int c = 0; c < l.channels; c++) {
      long s = 0;
      for (int i = 0; i < per; i++) s += Math.abs(depthwise ? w[i * l.channels + c] : w[c * per + i]);
      bound[c] = s * 32768 + (bias == null ? 0 : Math.abs(bias[c]));
    }
    return bound;
  }

  private double[] realMultipliers(Op op, Layout l) {
    Quantization qi = perTensor(op, l.in, "the input");
    Quantization qo = perTensor(op, l.out, "the output");
    int axis = type == OpType.DEPTHWISE_CONV_2D ? 3 : 0;
    float[] ws = NnSupport.weightScales(op, l.w, type == OpType.FULLY_CONNECTED ? "the weights" : "the filter", axis, l.channels);
    Quantization qw = l.w.quantization();
    for (int c = 0; c < qw.count(); c++) {
      if (qw.zeroPoint(c) != 0) {
        throw unsupported(op, "the weights '" + l.w.name() + "' have zero point " + qw.zeroPoint(c)
            + "; the 16x8 scheme needs symmetric weights");
      }
    }
    int n = type == OpType.FULLY_CONNECTED && !qw.isPerChannel() ? 1 : l.channels;
    double[] m = new double[n];
    for (int c = 0; c < n; c++) m[c] = (double) qi.scale() * (double) ws[c] / (double) qo.scale();
    return m;
  }

  @Override public void check(Op op) {
    if (type == OpType.FULLY_CONNECTED) {
      fcTables(op, layout(op));
    } else {
      convMultipliers(op, layout(op));
    }
  }

  private FixedPoint.Multiplier[] convMultipliers(Op op, Layout l) {
    double[] real = realMultipliers(op, l);
    FixedPoint.Multiplier[] m = new FixedPoint.Multiplier[real.length];
    for (int c = 0; c < m.length; c++) m[c] = FixedPoint.quantizeMultiplier(real[c]);
    requireMbqm64Fits(op, m, accumulatorBound(l));
    return m;
  }

  /** The FC rescale: {out_rescale words} or {null, out_scale words}. */
  private int[][] fcTables(Op op, Layout l) {
    double[] m = realMultipliers(op, l);
    long[] bound = accumulatorBound(l);
    for (int c = 0; c < bound.length; c++) {
      if (bound[c] > Integer.MAX_VALUE) {
        throw unsupported(op, "unit " + c + " can accumulate up to " + bound[c] + ", beyond int32, where TFLite's 16x8 "
            + "FULLY_CONNECTED rescales a 64-bit sum in double; Kiln compiles 16x8 FULLY_CONNECTED whose sums fit in int32");
      }
    }
    Options.FullyConnected o = op.options(Options.FullyConnected.class);
    NnSupport.requireClampActivation(op, o.activation());
    int[] act = Nn2Kernels.activationRangeInt16(o.activation(), l.out.quantization().scale(), 0);
    int[] exact = FullyConnectedEmitter.integerRescales(m, 0, act[0], act[1]);
    if (exact != null) return new int[][] {exact, null};
    int[] words = new int[m.length * 3];
    for (int u = 0; u < m.length; u++) System.arraycopy(FullyConnectedEmitter.f64Words(m[u]), 0, words, 3 * u, 3);
    return new int[][] {null, words};
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    String bias = l.bias == null ? "NULL" : ctx.data(l.bias);
    if (type == OpType.FULLY_CONNECTED) {
      Options.FullyConnected o = op.options(Options.FullyConnected.class);
      int[] act = Nn2Kernels.activationRangeInt16(o.activation(), l.out.quantization().scale(), 0);
      int[][] tables = fcTables(op, l);
      long depth = l.w.dim(1);
      NnSupport.Init init = new NnSupport.Init().put("batches", (int) (l.in.elements() / depth)).put("depth", (int) depth)
          .put("units", l.channels).put("act_min", act[0]).put("act_max", act[1])
          .put("per_channel", l.w.quantization().isPerChannel() ? 1 : 0);
      if (tables[0] != null) init.raw("out_rescale", ctx.tableI32("fc_rescale", tables[0]));
      else init.raw("out_scale", ctx.tableI32("fc_scale", tables[1]));
      String params = ctx.constant("kiln_fc16_params", "fc16", init.toString());
      ctx.body().line(NnSupport.format("kiln_fully_connected_s16(&%s, %s, %s, %s, %s);", params, ctx.data(l.in),
          ctx.data(l.w), bias, ctx.data(l.out)));
      return;
    }
    Options.Conv o = op.options(Options.Conv.class);
    NnSupport.requireClampActivation(op, o.activation());
    FixedPoint.Multiplier[] m = convMultipliers(op, l);
    int[] q = new int[m.length];
    int[] s = new int[m.length];
    for (int c = 0; c < m.length; c++) {
      q[c] = m[c].multiplier();
      s[c] = m[c].shift();
    }
    int[] act = Nn2Kernels.activationRangeInt16(o.activation(), l.out.quantization().scale(), 0);
    boolean dw = type == OpType.DEPTHWISE_CONV_2D;
    NnSupport.requireRank(op, l.in, "the input", 4);
    NnSupport.requireRank(op, l.out, "the output", 4);
    int groups = dw ? 1 : l.in.dim(3) / l.w.dim(3);
    NnSupport.Init init = new NnSupport.Init()
        .put("batches", l.in.dim(0)).put("in_h", l.in.dim(1)).put("in_w", l.in.dim(2)).put("in_c", l.in.dim(3))
        .put("out_h", l.out.dim(1)).put("out_w", l.out.dim(2)).put("out_c", l.out.dim(3))
        .put("filter_h", l.w.dim(1)).put("filter_w", l.w.dim(2))
        .put("stride_h", o.strideH()).put("stride_w", o.strideW()).put("dilation_h", o.dilationH()).put("dilation_w", o.dilationW())
        .put("pad_top", o.padding().top()).put("pad_left", o.padding().left())
        .put("groups", groups).put("depth_multiplier", dw ? l.out.dim(3) / l.in.dim(3) : 1)
        .put("act_min", act[0]).put("act_max", act[1])
        .raw("out_multiplier", ctx.tableI32("conv16_multiplier", q)).raw("out_shift", ctx.tableI32("conv16_shift", s));
    String params = ctx.constant("kiln_conv16_params", "conv16", init.toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s, %s, %s);", dw ? "kiln_depthwise_conv_s16" : "kiln_conv_s16", params,
        ctx.data(l.in), ctx.data(l.w), bias, ctx.data(l.out)));
  }
}
