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
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * CONV_2D and DEPTHWISE_CONV_2D (tflite-numerics.md 2.1-2.3, 3.1, 3.2, 9). Kinds compiled:
 * <ul>
 *   <li>int8 input/output, int8 filter with one scale or one per output channel, optional int32
 *       bias: {@code kiln_conv_s8} / {@code kiln_depthwise_conv_s8};</li>
 *   <li>float32 throughout: {@code kiln_conv_f32} / {@code kiln_depthwise_conv_f32};</li>
 *   <li>CONV_2D hybrid (float32 input/output, int8 symmetric per-tensor filter, float bias):
 *       {@code kiln_conv_hybrid_f32}, which quantizes each batch image into scratch.</li>
 * </ul>
 * CONV_2D may be grouped (filter input depth dividing the input channels). int8 and hybrid
 * CONV_2D get scratch for staging the windows of {@link #STAGED_PIXELS} output pixels as int16
 * (the kernels' fast path) when that takes at most {@link #STAGE_LIMIT_BYTES}; larger windows are
 * summed from the image without scratch.
 */
final class ConvEmitter implements KernelEmitter {
  private final boolean depthwise;

  ConvEmitter(OpType type) {
    this.depthwise = type == OpType.DEPTHWISE_CONV_2D;
  }

  private enum Kind { INT8, FLOAT, HYBRID }

  /** Shapes and the kind, validated. */
  private record Layout(Kind kind, Tensor in, Tensor filter, Tensor bias, Tensor out, int batches, int inH, int inW,
                        int inC, int outH, int outW, int outC, int filterH, int filterW, int groups, int multiplier) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Conv o = op.options(Options.Conv.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor filter = NnSupport.requireInput(op, 1, "filter");
    Tensor bias = op.input(2);
    Tensor out = op.output();
    NnSupport.requireRank(op, in, "the input", 4);
    NnSupport.requireRank(op, filter, "the filter", 4);
    NnSupport.requireRank(op, out, "the output", 4);
    NnSupport.requireNonEmpty(op, in, "the input");
    NnSupport.requireNonEmpty(op, filter, "the filter");
    NnSupport.requireNonEmpty(op, out, "the output");
    NnSupport.requireClampActivation(op, o.activation());
    if (o.strideH() < 1 || o.strideW() < 1 || o.dilationH() < 1 || o.dilationW() < 1) {
      throw unsupported(op, "strides and dilations must be >= 1, found stride " + o.strideH() + "x" + o.strideW()
          + ", dilation " + o.dilationH() + "x" + o.dilationW());
    }
    Options.Padding pad = o.padding();
    if (pad.top() < 0 || pad.left() < 0 || pad.bottom() < 0 || pad.right() < 0) {
      throw unsupported(op, "has negative padding " + pad);
    }
    int batches = in.dim(0);
    int inH = in.dim(1);
    int inW = in.dim(2);
    int inC = in.dim(3);
    int outH = out.dim(1);
    int outW = out.dim(2);
    int outC = out.dim(3);
    if (out.dim(0) != batches) {
      throw unsupported(op, "the output batch " + out.dim(0) + " differs from the input batch " + batches);
    }
    int filterH = filter.dim(1);
    int filterW = filter.dim(2);
    int groups = 1;
    int multiplier = 1;
    if (depthwise) {
      if (filter.dim(0) != 1 || filter.dim(3) != outC) {
        throw unsupported(op, "the depthwise filter has shape " + shape(filter) + "; expected [1, KH, KW, " + outC + "]");
      }
      if (outC % inC != 0) {
        throw unsupported(op, "output channels (" + outC + ") are not a multiple of input channels (" + inC + ")");
      }
      multiplier = outC / inC;
    } else {
      if (filter.dim(0) != outC) {
        throw unsupported(op, "the filter has " + filter.dim(0) + " output channels, the output " + outC);
      }
      int filterC = filter.dim(3);
      if (inC % filterC != 0 || outC % (inC / filterC) != 0) {
        throw unsupported(op, "the filter depth " + filterC + " does not divide the input channels " + inC
            + " into groups that divide the output channels " + outC);
      }
      groups = inC / filterC;
    }
    Kind kind;
    DType di = in.dtype();
    DType dw = filter.dtype();
    DType dout = out.dtype();
    if (di == DType.INT8 && dw == DType.INT8 && dout == DType.INT8) {
      kind = Kind.INT8;
      NnSupport.requireInt32Bias(op, bias, outC);
    } else if (di == DType.FLOAT32 && dw == DType.FLOAT32 && dout == DType.FLOAT32) {
      kind = Kind.FLOAT;
      NnSupport.requireFloatBias(op, bias, outC);
    } else if (!depthwise && di == DType.FLOAT32 && dw == DType.INT8 && dout == DType.FLOAT32) {
      kind = Kind.HYBRID;
      NnSupport.requireFloatBias(op, bias, outC);
    } else {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles int8 (int8 filter, int32 bias), "
          + "float32" + (depthwise ? "" : " and hybrid float32 input with an int8 filter"));
    }
    return new Layout(kind, in, filter, bias, out, batches, inH, inW, inC, outH, outW, outC, filterH, filterW, groups,
        multiplier);
  }

  @Override public void check(Op op) {
    Layout l = layout(op);
    if (l.kind == Kind.INT8) {
      int8Multipliers(op, l);
    } else if (l.kind == Kind.HYBRID) {
      hybridFilterScales(op, l);
    }
  }

  @Override public int scratchBytes(Op op) {
    Layout l = layout(op);
    int stage = stageBytes(l);
    if (l.kind == Kind.HYBRID) {
      int image = l.inH * l.inW * l.inC;
      return stage == 0 ? image : ((image + 15) & ~15) + stage;
    }
    return l.kind == Kind.INT8 ? stage : 0;
  }

  /** Output pixels whose windows the int8 and hybrid CONV_2D kernels stage together (KILN_CONV_PIXELS). */
  static final int STAGED_PIXELS = 4;

  /** The largest window (values) kiln_conv_s8's DSP path takes: KILN_CONV_DSP_WINDOW_MAX in kiln_nn_conv.c. */
  static final int DSP_WINDOW_MAX = 576;

  /**
   * Turns on the int8 kernel's portable path (KILN_CONV_S8_PORTABLE_USED /
   * KILN_DEPTHWISE_S8_PORTABLE_USED in kiln_nn.h) when the DSP path of a Cortex-M4/M7 build does
   * not cover this op: a model whose convolutions it all covers leaves the portable code out there.
   */
  private void usePortableInt8(Layout l, KernelContext ctx) {
    if (depthwise) {
      if (l.multiplier != 1 || l.outC % 4 != 0) {
        ctx.useKernelSwitch("KILN_DEPTHWISE_S8_PORTABLE_USED", "depth multiplier " + l.multiplier + ", " + l.outC
            + " output channels (the DSP path takes multiplier 1, channels by 4)");
      }
    } else {
      long window = (long) l.filterH * l.filterW * (l.inC / l.groups);
      if (l.groups != 1 || window > DSP_WINDOW_MAX) {
        ctx.useKernelSwitch("KILN_CONV_S8_PORTABLE_USED", l.groups + " group(s), windows of " + window
            + " values (the DSP path takes one group, windows up to " + DSP_WINDOW_MAX + ")");
      }
    }
  }

  /** The most scratch staged windows may take; larger windows are summed from the image instead. */
  static final int STAGE_LIMIT_BYTES = 4096;

  /**
   * Scratch bytes of the staged windows of an int8 or hybrid CONV_2D (STAGED_PIXELS int16 runs,
   * each the window rounded up to 16 values), or 0 if the kernel sums from the image.
   */
  private int stageBytes(Layout l) {
    // Only hybrid convs stage: they already hold a quantized copy of the image, and staging is what
    // brings them under half of TFLite's time. int8 convs meet that goal without it, and staging
    // would grow their arena past the liveness lower bound (the digits model: 640 -> 1024 bytes).
    if (depthwise || l.kind != Kind.HYBRID) return 0;
    long window = (long) l.filterH * l.filterW * (l.inC / l.groups);
    long bytes = 2L * STAGED_PIXELS * ((window + 15) & ~15L);
    return bytes <= STAGE_LIMIT_BYTES ? (int) bytes : 0;
  }

  /**
   * Whether every channel's MBQM may run in kiln_requant32's 32-bit form (kiln_nn_util.h): it needs
   * |acc + bias| * 2^(max(shift, 0) + 1) < 2^31 for every accumulator the channel can produce (bound
   * from the constant filter and bias), and a left shift of at most 30 bits.
   */
  static boolean requant32Fits(FixedPoint.Multiplier[] m, long[] bound) {
    if (bound == null) return false;
    for (int c = 0; c < m.length; c++) {
      int left = Math.max(m[c].shift(), 0) + 1;
      if (left > 30 || bound[c] >= (1L << (31 - left))) return false;
    }
    return true;
  }

  /** Per output channel (q, shift) of M = s_in * s_w[c] / s_out in double (section 2.2), overflow-checked. */
  private FixedPoint.Multiplier[] int8Multipliers(Op op, Layout l) {
    Quantization qi = NnSupport.perTensor(op, l.in, "the input");
    Quantization qo = NnSupport.perTensor(op, l.out, "the output");
    float[] ws = NnSupport.weightScales(op, l.filter, "the filter", depthwise ? 3 : 0, l.outC);
    FixedPoint.Multiplier[] m = new FixedPoint.Multiplier[l.outC];
    for (int c = 0; c < l.outC; c++) {
      double real = (double) qi.scale() * (double) ws[c] / (double) qo.scale();
      m[c] = FixedPoint.quantizeMultiplier(real);
    }
    NnSupport.requireShiftFits(op, m, accumulatorBound(l, qi.zeroPoint()));
    return m;
  }

  /**
   * Options.Requantize.ONNXRUNTIME: onnxruntime's QLinearConv requantization per output channel,
   * {@code rne(float32(acc) * float32(float32(s_in * s_w[c]) / s_out))} clamped around the zero
   * point, KILN_RESCALE_WORDS words per channel: an exact integer rescale ({@link LinearRescale},
   * proven over every accumulator the channel can produce) where one exists (about nine channels in
   * ten), else that float arithmetic itself ({@link LinearRescale#floatWords}: a tie or a float32
   * rounding the straight line cannot follow), so every channel gives onnxruntime's code.
   */
  private int[] onnxruntimeRescales(Op op, Layout l, int[] act) {
    Quantization qi = l.in.quantization();
    Quantization qo = l.out.quantization();
    float[] ws = NnSupport.weightScales(op, l.filter, "the filter", depthwise ? 3 : 0, l.outC);
    long[] bound = accumulatorBound(l, qi.zeroPoint());
    int[] words = new int[l.outC * LinearRescale.WORDS];
    for (int c = 0; c < l.outC; c++) {
      float m = qi.scale() * ws[c] / qo.scale();
      long b = bound == null ? Integer.MAX_VALUE : bound[c];
      System.arraycopy(onnxruntimeWords(m, qo.zeroPoint(), act[0], act[1], b), 0, words, c * LinearRescale.WORDS,
          LinearRescale.WORDS);
    }
    return words;
  }

  /**
   * The KILN_RESCALE_WORDS words of one channel requantized as onnxruntime does with float32
   * multiplier {@code m} (output zero point, activation clamp [lo, hi]) for accumulators within
   * {@code bound} in magnitude: the exact integer rescale when one exists, else the float form.
   */
  static int[] onnxruntimeWords(float m, int zeroPoint, int lo, int hi, long bound) {
    long b = Math.min(bound, Integer.MAX_VALUE);
    LinearRescale.Rescale r = LinearRescale.fit(onnxruntimeRequantize(m, zeroPoint, lo, hi), m, zeroPoint, lo, hi, -b, b);
    return r != null ? r.words() : LinearRescale.floatWords(m);
  }

  /**
   * Turns on the kernels' float form (LinearRescale.FLOAT_SWITCH) when the table has entries of it;
   * a model without any compiles the kernels as if it did not exist (issue 12).
   */
  static void useFloatForm(KernelContext ctx, int[] table, String entries) {
    int n = LinearRescale.floatEntries(table);
    if (n > 0) {
      ctx.useKernelSwitch(LinearRescale.FLOAT_SWITCH, n + " of " + table.length / LinearRescale.WORDS + " " + entries
          + " take onnxruntime's float requantization (no exact integer rescale)");
    }
  }

  /** onnxruntime's (MLAS) requantization of an accumulator: float32 product, clamp, round half to even, zero point, activation clamp. */
  static java.util.function.LongUnaryOperator onnxruntimeRequantize(float m, int zeroPoint, int lo, int hi) {
    return acc -> {
      float v = (float) acc * m;
      v = Math.max(v, (float) (-128 - zeroPoint));
      v = Math.min(v, (float) (127 - zeroPoint));
      return Math.max(lo, Math.min(hi, (long) Math.rint(v) + zeroPoint));
    };
  }

  /** max |accumulator| per output channel from the constant filter and bias, or null. */
  private long[] accumulatorBound(Layout l, int inputZeroPoint) {
    if (!l.filter.isConstant() || (l.bias != null && !l.bias.isConstant())) return null;
    byte[] w = l.filter.data();
    long[] bound = new long[l.outC];
    if (depthwise) {
      for (int i = 0; i < w.length; i++) bound[i % l.outC] += Math.abs(w[i]);
    } else {
      int perChannel = w.length / l.outC;
      for (int i = 0; i < w.length; i++) bound[i / perChannel] += Math.abs(w[i]);
    }
    long x = NnSupport.maxAbsInput(inputZeroPoint);
    int[] b = l.bias == null ? null : NnSupport.int32Data(l.bias);
    for (int c = 0; c < l.outC; c++) bound[c] = bound[c] * x + (b == null ? 0 : Math.abs((long) b[c]));
    return bound;
  }

  /**
   * The hybrid filter's scales, checked symmetric: one entry when TFLite takes the per-tensor path
   * (one scale, or several all equal), else one per output channel (HybridConvPerChannel).
   */
  private float[] hybridFilterScales(Op op, Layout l) {
    Quantization q = l.filter.quantization();
    float[] ws = NnSupport.weightScales(op, l.filter, "the filter", 0, l.outC);
    for (int c = 0; c < q.count(); c++) {
      if (q.zeroPoint(c) != 0) {
        throw unsupported(op, "is a hybrid conv whose int8 filter has zero point " + q.zeroPoint(c)
            + "; TFLite's hybrid kernels need symmetric weights (zero point 0)");
      }
    }
    for (float s : ws) {
      if (s != ws[0]) return ws;
    }
    return new float[] {ws[0]};
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.Conv o = op.options(Options.Conv.class);
    String base = depthwise ? "dwconv" : "conv";
    NnSupport.Init init = new NnSupport.Init()
        .dim("batches", l.batches).dim("in_h", l.inH).dim("in_w", l.inW).dim("in_c", l.inC)
        .dim("out_h", l.outH).dim("out_w", l.outW).dim("out_c", l.outC)
        .dim8("filter_h", l.filterH).dim8("filter_w", l.filterW)
        .dim8("stride_h", o.strideH()).dim8("stride_w", o.strideW())
        .dim8("dilation_h", o.dilationH()).dim8("dilation_w", o.dilationW())
        .dim8("pad_top", o.padding().top()).dim8("pad_left", o.padding().left())
        .dim("groups", l.groups).dim8("depth_multiplier", l.multiplier);
    boolean staged = stageBytes(l) > 0;
    String bias = l.bias == null ? "NULL" : ctx.data(l.bias);
    String call;
    switch (l.kind) {
      case INT8 -> {
        FixedPoint.Multiplier[] m = int8Multipliers(op, l);
        int[] q = new int[m.length];
        byte[] shift = new byte[m.length];
        for (int c = 0; c < m.length; c++) {
          q[c] = m[c].multiplier();
          shift[c] = (byte) m[c].shift(); // QuantizeMultiplier's exponents lie in [-31, 30]
        }
        String multName = ctx.tableI32(base + "_multiplier", q);
        String shiftName = ctx.tableI8(base + "_shift", shift);
        boolean requant32 = requant32Fits(m, accumulatorBound(l, l.in.quantization().zeroPoint()));
        if (requant32) init.put("requant32", 1);
        if (!requant32 || o.requantize() == Options.Requantize.ONNXRUNTIME) {
          ctx.useKernelSwitch("KILN_CONV_RESCALE64_USED", requant32 ? "onnxruntime's rescale table"
              : "a channel's multiplier is not proven exact in the 32-bit requantization");
        }
        Quantization qi = l.in.quantization();
        Quantization qo = l.out.quantization();
        int[] act = NnSupport.actRangeInt8(o.activation(), qo);
        init.put("input_offset", -qi.zeroPoint()).put("output_offset", qo.zeroPoint())
            .put("act_min", act[0]).put("act_max", act[1])
            .raw("out.s8.out_multiplier", multName).raw("out.s8.out_shift", shiftName);
        if (o.requantize() == Options.Requantize.ONNXRUNTIME) {
          int[] rescales = onnxruntimeRescales(op, l, act);
          useFloatForm(ctx, rescales, "output channels");
          init.raw("out.s8.out_rescale", ctx.tableI32(base + "_rescale", rescales));
        }
        String params = ctx.constant("kiln_conv_params", base, init.useDims(ctx, op).toString());
        usePortableInt8(l, ctx);
        call = depthwise
            ? NnSupport.format("kiln_depthwise_conv_s8(&%s, %s, %s, %s, %s);", params, ctx.data(l.in), ctx.data(l.filter),
                bias, ctx.data(l.out))
            : NnSupport.format("kiln_conv_s8(&%s, %s, %s, %s, %s, %s);", params, ctx.data(l.in), ctx.data(l.filter), bias,
                ctx.data(l.out), staged ? ctx.scratch() : "NULL");
      }
      case FLOAT -> {
        float[] act = FixedPoint.activationRangeFloat(o.activation());
        init.put("out.f32.act_min_f", act[0]).put("out.f32.act_max_f", act[1]);
        String params = ctx.constant("kiln_conv_params", base, init.useDims(ctx, op).toString());
        call = NnSupport.format("%s(&%s, %s, %s, %s, %s);", depthwise ? "kiln_depthwise_conv_f32" : "kiln_conv_f32",
            params, ctx.data(l.in), ctx.data(l.filter), bias, ctx.data(l.out));
      }
      default -> {
        float[] act = FixedPoint.activationRangeFloat(o.activation());
        float[] scales = hybridFilterScales(op, l);
        init.put("out.f32.act_min_f", act[0]).put("out.f32.act_max_f", act[1]);
        if (staged) init.put("staged", 1); // the int8 kernel is given scratch only when staged
        String fn = "kiln_conv_hybrid_f32";
        if (scales.length == 1) {
          init.put("out.f32.filter.scale", scales[0]);
        } else {
          init.raw("out.f32.filter.scales", ctx.tableF32(base + "_filter_scales", scales));
          fn = "kiln_conv_hybrid_per_channel_f32";
        }
        String params = ctx.constant("kiln_conv_params", base, init.useDims(ctx, op).toString());
        call = NnSupport.format("%s(&%s, %s, %s, %s, %s, %s);", fn, params, ctx.data(l.in), ctx.data(l.filter), bias,
            ctx.data(l.out), ctx.scratch());
      }
    }
    ctx.body().line(call);
  }
}
