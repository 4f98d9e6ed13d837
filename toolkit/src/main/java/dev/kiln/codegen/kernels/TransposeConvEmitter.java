package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * TRANSPOSE_CONV (TF 2.21 reference kernels reference_ops::TransposeConv and
 * reference_integer_ops::TransposeConv): inputs (output shape, filter [Cout, KH, KW, Cin], input,
 * optional bias). float32; int8 with per-channel or per-tensor filter scales, int32 bias,
 * {@code MBQM(acc + bias, M_c) + z_out} with {@code M_c = f64(s_in) * f64(s_w[c]) / f64(s_out)}
 * (as CONV_2D); 16x8 (int16 activations with zero point 0, int64 bias) with the 64-bit MBQM.
 * The fused activation clamps the result. The int8 accumulator is int32 in the reference: Kiln
 * refuses a filter whose worst-case sum could overflow it.
 */
final class TransposeConvEmitter implements KernelEmitter {
  private enum Kind { FLOAT, INT8, INT16 }

  private record Layout(Kind kind, Tensor in, Tensor filter, Tensor bias, Tensor out) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.TransposeConv o = op.options(Options.TransposeConv.class);
    Tensor filter = NnSupport.requireInput(op, 1, "filter");
    Tensor in = NnSupport.requireInput(op, 2, "input");
    Tensor bias = op.input(3);
    Tensor out = op.output();
    NnSupport.requireRank(op, in, "the input", 4);
    NnSupport.requireRank(op, filter, "the filter", 4);
    NnSupport.requireRank(op, out, "the output", 4);
    NnSupport.requireClampActivation(op, o.activation());
    if (filter.dim(0) != out.dim(3) || filter.dim(3) != in.dim(3) || in.dim(0) != out.dim(0)) {
      throw unsupported(op, "the filter " + shape(filter) + " does not fit input " + shape(in) + " and output "
          + shape(out) + " (expected [out channels, KH, KW, in channels])");
    }
    DType di = in.dtype();
    DType dw = filter.dtype();
    DType dout = out.dtype();
    Kind kind;
    int channels = out.dim(3);
    if (di == DType.FLOAT32 && dw == DType.FLOAT32 && dout == DType.FLOAT32) {
      kind = Kind.FLOAT;
      NnSupport.requireFloatBias(op, bias, channels);
    } else if (di == DType.INT8 && dw == DType.INT8 && dout == DType.INT8) {
      kind = Kind.INT8;
      NnSupport.requireInt32Bias(op, bias, channels);
    } else if (di == DType.INT16 && dw == DType.INT8 && dout == DType.INT16) {
      kind = Kind.INT16;
      Int16NnEmitter.requireInt64Bias(op, bias, channels);
    } else {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles float32, int8 (int8 filter, int32 "
          + "bias) and 16x8 (int16 input and output, int8 filter, int64 bias)");
    }
    if (kind != Kind.FLOAT && !filter.isConstant()) {
      // the integer forms bound the accumulator from the filter's values when compiling
      throw unsupported(op, "its " + dtypes(op) + " filter '" + filter.name() + "' is computed at run time; Kiln needs a constant filter"
          + " for the integer kernels (float32 takes one computed at run time)");
    }
    return new Layout(kind, in, filter, bias, out);
  }

  @Override public void check(Op op) {
    Layout l = layout(op);
    if (l.kind != Kind.FLOAT) multipliers(op, l);
  }

  /** Per output channel (q, shift) of M_c in double, as CONV_2D (tflite-numerics 2.2). */
  private FixedPoint.Multiplier[] multipliers(Op op, Layout l) {
    Quantization qi = Int16NnEmitter.perTensor(op, l.in, "the input");
    Quantization qo = Int16NnEmitter.perTensor(op, l.out, "the output");
    int channels = l.out.dim(3);
    float[] ws = NnSupport.weightScales(op, l.filter, "the filter", 0, channels);
    FixedPoint.Multiplier[] m = new FixedPoint.Multiplier[channels];
    long[] bound = accumulatorBound(l, l.kind == Kind.INT8 ? qi.zeroPoint() : 0);
    for (int c = 0; c < channels; c++) {
      m[c] = FixedPoint.quantizeMultiplier((double) qi.scale() * (double) ws[c] / (double) qo.scale());
    }
    if (l.kind == Kind.INT8) {
      for (int c = 0; c < channels; c++) {
        if (bound[c] >= 1L << 31) {
          throw unsupported(op, "output channel " + c + " can accumulate up to " + bound[c] + ", beyond the reference's int32 "
              + "accumulator");
        }
      }
      NnSupport.requireShiftFits(op, m, bound);
    } else {
      Int16NnEmitter.requireMbqm64Fits(op, m, bound);
    }
    return m;
  }

  /**
   * Per output channel, the largest |acc| any input can give: every input pixel meets each filter
   * tap at most once per output element, so |acc| <= sum over the filter of |w| * max|x - z| + |bias|.
   */
  private static long[] accumulatorBound(Layout l, int inputZeroPoint) {
    byte[] w = l.filter.data();
    int channels = l.out.dim(3);
    int per = w.length / channels;
    long maxX = l.kind == Kind.INT8 ? NnSupport.maxAbsInput(inputZeroPoint) : 32768;
    long[] bias = l.bias == null ? null : Int16NnEmitter.integers(l.bias);
    long[] bound = new long[channels];
    for (int c = 0; c < channels; c++) {
      long s = 0;
      for (int i = 0; i < per; i++) s += Math.abs(w[c * per + i]);
      bound[c] = s * maxX + (bias == null ? 0 : Math.abs(bias[c]));
    }
    return bound;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    Options.TransposeConv o = op.options(Options.TransposeConv.class);
    NnSupport.Init init = new NnSupport.Init()
        .put("batches", l.in.dim(0)).put("in_h", l.in.dim(1)).put("in_w", l.in.dim(2)).put("in_c", l.in.dim(3))
        .put("out_h", l.out.dim(1)).put("out_w", l.out.dim(2)).put("out_c", l.out.dim(3))
        .put("filter_h", l.filter.dim(1)).put("filter_w", l.filter.dim(2))
        .put("stride_h", o.strideH()).put("stride_w", o.strideW())
        .put("pad_top", o.padding().top()).put("pad_left", o.padding().left());
    String bias = l.bias == null ? "NULL" : ctx.data(l.bias);
    String fn;
    if (l.kind == Kind.FLOAT) {
      float[] act = FixedPoint.activationRangeFloat(o.activation());
      init.put("act_min_f", act[0]).put("act_max_f", act[1]);
      fn = "kiln_transpose_conv_f32";
    } else {
      FixedPoint.Multiplier[] m = multipliers(op, l);
      int[] q = new int[m.length];
      int[] s = new int[m.length];
      for (int c = 0; c < m.length; c++) {
        q[c] = m[c].multiplier();
        s[c] = m[c].shift();
      }
      Quantization qi = l.in.quantization();
      Quantization qo = l.out.quantization();
      int[] act = Nn2Kernels.activationRange(l.out.dtype(), o.activation(), qo);
      init.put("input_offset", l.kind == Kind.INT8 ? -qi.zeroPoint() : 0)
          .put("output_offset", l.kind == Kind.INT8 ? qo.zeroPoint() : 0)
          .put("act_min", act[0]).put("act_max", act[1])
          .raw("out_multiplier", ctx.tableI32("tconv_multiplier", q)).raw("out_shift", ctx.tableI32("tconv_shift", s));
      fn = l.kind == Kind.INT8 ? "kiln_transpose_conv_s8" : "kiln_transpose_conv_s16";
    }
    String params = ctx.constant("kiln_tconv_params", "tconv", init.toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s, %s, %s);", fn, params, ctx.data(l.in), ctx.data(l.filter), bias,
        ctx.data(l.out)));
  }
}
