package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool and BatchNormalization: 4-D NCHW in
 * ONNX, NHWC ir ops here (weights permuted at import: OIHW -> OHWI, depthwise -> [1, kH, kW, M]).
 * Padding arrives explicit (top, left, bottom, right); the kernels skip taps outside the image, so
 * asymmetric pads and ceil_mode are a matter of output size, and AveragePool's count_include_pad
 * becomes an explicit PAD with zeros in front of the pool.
 */
final class NnOps {
  private NnOps() {}

  /** Strides, dilations, explicit padding and output size of a 2-D window op. */
  record Window(int strideH, int strideW, int dilationH, int dilationW, Options.Padding padding, int outH, int outW) {}

  /**
   * Resolves {@code strides}, {@code dilations}, {@code pads} and {@code auto_pad} (onnx-format.md
   * section 5) for a window of {@code kh x kw} over {@code h x w}.
   */
  static Window window(GraphLowering l, Proto.Node n, int h, int w, int kh, int kw, boolean pool, boolean ceil, boolean oneD)
      throws ModelFormatException {
    Attrs a = l.attrs(n);
    int[] strides = a.ints("strides");
    int[] dilations = a.ints("dilations");
    int[] pads = a.ints("pads");
    String autoPad = a.s("auto_pad", "NOTSET");
    if (strides == null) strides = new int[] {1, 1};
    if (dilations == null) dilations = new int[] {1, 1};
    if (oneD) {
      // a 1-D window runs as 2-D over a height of 1
      if (strides.length == 1) strides = new int[] {1, strides[0]};
      if (dilations.length == 1) dilations = new int[] {1, dilations[0]};
      if (pads != null && pads.length == 2) pads = new int[] {0, pads[0], 0, pads[1]};
    }
    if (strides.length != 2 || dilations.length != 2 || pads != null && pads.length != 4) {
      throw l.error(n, "strides " + Arrays.toString(strides) + ", dilations " + Arrays.toString(dilations) + " and pads "
          + Arrays.toString(pads) + " must have 2, 2 and 4 entries for a 2-D window");
    }
    for (int v : strides) if (v < 1) throw l.error(n, "has stride " + v + "; strides must be >= 1");
    for (int v : dilations) if (v < 1) throw l.error(n, "has dilation " + v + "; dilations must be >= 1");
    if (pool && (dilations[0] != 1 || dilations[1] != 1)) {
      throw l.error(n, "has dilations " + Arrays.toString(dilations) + "; Kiln compiles pooling without dilation");
    }
    int[] p = pads == null ? new int[4] : pads.clone();
    int[] in = {h, w};
    int[] k = {kh, kw};
    int[] out = new int[2];
    switch (autoPad) {
      case "NOTSET", "" -> {
        for (int v : p) if (v < 0) throw l.error(n, "has negative pads " + Arrays.toString(p));
        for (int i = 0; i < 2; i++) out[i] = outSize(l, n, in[i], k[i], strides[i], dilations[i], p[i], p[i + 2], ceil);
      }
      case "VALID" -> {
        Arrays.fill(p, 0);
        for (int i = 0; i < 2; i++) out[i] = outSize(l, n, in[i], k[i], strides[i], dilations[i], 0, 0, ceil);
      }
      case "SAME_UPPER", "SAME_LOWER" -> {
        for (int i = 0; i < 2; i++) {
          out[i] = (in[i] + strides[i] - 1) / strides[i];
          long eff = (long) (k[i] - 1) * dilations[i] + 1;
          int total = (int) Math.max(0, (long) (out[i] - 1) * strides[i] + eff - in[i]);
          int small = total / 2;
          p[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
          p[i + 2] = total - p[i];
        }
      }
      default -> throw l.error(n, "has auto_pad '" + autoPad + "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    }
    if (pool && (p[0] >= kh || p[1] >= kw || p[2] >= kh || p[3] >= kw)) {
      throw l.error(n, "has pads " + Arrays.toString(p) + " for a " + kh + "x" + kw + " window; pads must be smaller than"
          + " the window (onnxruntime refuses them too)");
    }
    return new Window(strides[0], strides[1], dilations[0], dilations[1], new Options.Padding(p[0], p[1], p[2], p[3]), out[0], out[1]);
  }

  private static int outSize(GraphLowering l, Proto.Node n, int in, int k, int s, int d, int begin, int end, boolean ceil)
      throws ModelFormatException {
    long eff = (long) (k - 1) * d + 1;
    long span = (long) in + begin + end - eff;
    if (span < 0) {
      throw l.error(n, "its window (" + k + " taps, dilation " + d + ") is larger than the padded input (" + in + " + " + begin
          + " + " + end + ")");
    }
    long out = ceil ? (span + s - 1) / s + 1 : span / s + 1;
    // ceil_mode: the last window must start inside the input or its leading padding
    if (ceil && (out - 1) * s >= (long) in + begin) out--;
    return (int) out;
  }

  static void requireRank4(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    if (x.rank() != 4) {
      throw l.error(n, "has an input of shape " + GraphLowering.shape(x.shape) + "; Kiln compiles 1-D and 2-D " + n.opType()
          + " (3-D or 5-D NCW/NCHW tensors)" + (x.rank() == 5 ? ", not 3-D (no 3-D kernel)" : ""));
    }
  }

  /** True for a 1-D window op: a rank-3 NCW input, lowered as 2-D over [N, C, 1, W]. */
  private static boolean isOneD(Value x) { return x.rank() == 3 && !x.isConstant(); }

  /** A rank-3 NCW value viewed as NCHW with H = 1 (free); else {@code x}. */
  private static Value lift(boolean oneD, Value x) {
    return oneD ? x.reshaped(x.name, new int[] {x.shape[0], x.shape[1], 1, x.shape[2]}) : x;
  }

  /** The 4-D result of a 1-D op seen as NCW again. */
  private static Value drop(boolean oneD, Value v) {
    return oneD ? v.reshaped(v.name, new int[] {v.shape[0], v.shape[1], v.shape[3]}) : v;
  }

  /** Weights [M, C/g, k] as [M, C/g, 1, k], keeping their integer codes. */
  private static Constant liftWeights(Constant w) {
    int[] s = w.shape();
    int[] s4 = {s[0], s[1], 1, s[2]};
    Constant.Quantized q = w.quantized();
    Constant lifted = w.reshape(s4);
    if (q == null) return lifted;
    return lifted.withQuantized(new Constant.Quantized(q.codes().reshape(s4), q.scales(), q.zeroPoints(), q.axis()));
  }

  // ---- Conv -----------------------------------------------------------------------------------

  static void conv(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x0 = l.input(n, 0, "input");
    if (x0.rank() == 5 && !x0.isConstant()) {
      Conv3dOps.conv3d(l, n); // family: onnx (onnx-ops2): 3-D Conv on the 2-D kernels
      return;
    }
    boolean oneD = isOneD(x0);
    Value x = lift(oneD, x0);
    requireRank4(l, n, x);
    Value wv = l.input(n, 1, "weights");
    if (!wv.isConstant()) {
      convRuntimeWeights(l, n, x, oneD, wv);
      return;
    }
    Constant w = l.constantInput(n, 1, "weights");
    if (w.rank() == 3 && oneD) w = liftWeights(w);
    Constant b = n.input(2) == null ? null : l.constantInput(n, 2, "bias");
    String out = GraphLowering.output(n, 0);
    if (w.rank() != 4) throw l.error(n, "has weights of shape " + GraphLowering.shape(w.shape()) + "; expected [M, C/group, kH, kW]");
    Attrs a = l.attrs(n);
    int group = a.int32("group", 1);
    int[] xs = x.shape;
    int[] ws = w.shape();
    int m = ws[0];
    int c = xs[1];
    if (group < 1 || (long) ws[1] * group != c || m % group != 0) {
      throw l.error(n, "has group " + group + " with input channels " + c + " and weights " + GraphLowering.shape(ws)
          + "; expected C = group * weights[1] and M divisible by group");
    }
    int[] ks = a.ints("kernel_shape");
    if (ks != null && ks.length == 1 && oneD) ks = new int[] {1, ks[0]};
    if (ks != null && (ks.length != 2 || ks[0] != ws[2] || ks[1] != ws[3])) {
      throw l.error(n, "has kernel_shape " + Arrays.toString(ks) + " but weights " + GraphLowering.shape(ws));
    }
    if (b != null && b.elements() != m) throw l.error(n, "has a bias of " + b.elements() + " values for " + m + " output channels");
    Window win = window(l, n, xs[2], xs[3], ws[2], ws[3], false, false, oneD);
    int[] shape = {xs[0], m, win.outH, win.outW};
    int[] physShape = {xs[0], win.outH, win.outW, m};
    boolean depthwise = group == c && group > 1;
    GraphLowering.Epilogue e = l.epilogue(out, m);
    Int8 q = int8Plan(l, n, x, w, e, 0);
    if (q != null) {
      TensorRef in = l.layout(x.source, GraphLowering.NHWC);
      Constant codes = q.codes.transpose(depthwise ? new int[] {1, 2, 3, 0} : GraphLowering.NHWC);
      TensorRef filter = l.constantTensor(n.inputs().get(1), codes, weightQuantization(q, depthwise ? 3 : 0));
      TensorRef bias = b == null ? null : int32Bias(l, n.inputs().get(2), b, q, m);
      String name = GraphLowering.output(e.quantize(), 0);
      TensorRef t = l.newTensor(name, true, physShape, DType.INT8, q.out.int8Quantization());
      Options.Conv o = convOptions(win, depthwise ? m / c : 1, e.activation());
      o = new Options.Conv(o.strideH(), o.strideW(), o.dilationH(), o.dilationW(), o.padding(), o.depthMultiplier(),
          o.activation(), Options.Requantize.ONNXRUNTIME);
      l.op(depthwise ? OpType.DEPTHWISE_CONV_2D : OpType.CONV_2D, o, t, in, filter, bias);
      List<Proto.Node> merged = new ArrayList<>(e.nodes());
      merged.add(e.quantize());
      l.take(merged);
      l.define(n, name, drop(oneD, Value.permuted(name, t, GraphLowering.NCHW, shape).asUint8(q.out.type() == DType.UINT8)));
      return;
    }
    Value xf = l.floatValue(x);
    requireFloat(l, n, xf);
    TensorRef in = l.layout(xf, GraphLowering.NHWC);
    float[] wf = w.floats();
    float[] bf = b == null ? null : b.floats();
    if (e.affine() != null) {
      GraphLowering.Affine af = e.affine();
      int per = (int) (w.elements() / m);
      for (int i = 0; i < wf.length; i++) wf[i] *= af.scale()[i / per];
      float[] nb = new float[m];
      for (int o = 0; o < m; o++) nb[o] = ((bf == null ? 0f : bf[o]) - af.mean()[o]) * af.scale()[o] + af.beta()[o];
      bf = nb;
    }
    Constant filterData = Constant.ofFloats(ws, wf).transpose(depthwise ? new int[] {1, 2, 3, 0} : GraphLowering.NHWC);
    TensorRef filter = l.constantTensor(n.inputs().get(1), filterData, Quantization.NONE);
    TensorRef bias = bf == null ? null : l.constantTensor(b == null ? out + "/bias" : n.inputs().get(2), Constant.ofFloats(new int[] {m}, bf),
        Quantization.NONE);
    String name = e.beforeQuantize();
    TensorRef t = l.newTensor(name, true, physShape, DType.FLOAT32, Quantization.NONE);
    l.op(depthwise ? OpType.DEPTHWISE_CONV_2D : OpType.CONV_2D, convOptions(win, depthwise ? m / c : 1, e.activation()), t, in,
        filter, bias);
    l.take(e.nodes());
    l.define(n, name, drop(oneD, Value.permuted(name, t, GraphLowering.NCHW, shape)));
  }

  /**
   * A float Conv whose weights (and bias) are computed at run time: the kernel reads them as tensors, the weights laid
   * out by a TRANSPOSE ([M, kH, kW, C/group], or [1, kH, kW, M] depthwise) on every run; nothing is fused after it.
   */
  private static void convRuntimeWeights(GraphLowering l, Proto.Node n, Value x, boolean oneD, Value wv) throws ModelFormatException {
    wv = l.floatValue(wv);
    requireFloat(l, n, wv);
    if (oneD && wv.rank() == 3) wv = wv.reshaped(wv.name + "/2d", new int[] {wv.shape[0], wv.shape[1], 1, wv.shape[2]});
    if (wv.rank() != 4) throw l.error(n, "has weights of shape " + GraphLowering.shape(wv.shape) + "; expected [M, C/group, kH, kW]");
    Value bv = n.input(2) == null ? null : l.floatValue(l.input(n, 2, "bias"));
    if (bv != null) requireFloat(l, n, bv);
    int group = l.attrs(n).int32("group", 1);
    int[] xs = x.shape;
    int[] ws = wv.shape;
    int m = ws[0];
    int c = xs[1];
    if (group < 1 || (long) ws[1] * group != c || m % group != 0) {
      throw l.error(n, "has group " + group + " with input channels " + c + " and weights " + GraphLowering.shape(ws)
          + "; expected C = group * weights[1] and M divisible by group");
    }
    int[] ks = l.attrs(n).ints("kernel_shape");
    if (ks != null && ks.length == 1 && oneD) ks = new int[] {1, ks[0]};
    if (ks != null && (ks.length != 2 || ks[0] != ws[2] || ks[1] != ws[3])) {
      throw l.error(n, "has kernel_shape " + Arrays.toString(ks) + " but weights " + GraphLowering.shape(ws));
    }
    if (bv != null && bv.elements() != m) throw l.error(n, "has a bias of " + bv.elements() + " values for " + m + " output channels");
    Window win = window(l, n, xs[2], xs[3], ws[2], ws[3], false, false, oneD);
    boolean depthwise = group == c && group > 1;
    Value xf = l.floatValue(x);
    requireFloat(l, n, xf);
    TensorRef in = l.layout(xf, GraphLowering.NHWC);
    TensorRef filter = l.layout(wv, depthwise ? new int[] {1, 2, 3, 0} : GraphLowering.NHWC);
    TensorRef bias = bv == null ? null : l.layout(bv.reshaped(bv.name + "/vector", new int[] {m}), null);
    String out = GraphLowering.output(n, 0);
    int[] shape = {xs[0], m, win.outH, win.outW};
    TensorRef t = l.newTensor(out, true, new int[] {xs[0], win.outH, win.outW, m}, DType.FLOAT32, Quantization.NONE);
    l.op(depthwise ? OpType.DEPTHWISE_CONV_2D : OpType.CONV_2D, convOptions(win, depthwise ? m / c : 1, Activation.NONE), t, in, filter, bias);
    l.define(n, out, drop(oneD, Value.permuted(out, t, GraphLowering.NCHW, shape)));
  }

  private static Options.Conv convOptions(Window w, int multiplier, Activation act) {
    return new Options.Conv(w.strideH, w.strideW, w.dilationH, w.dilationW, w.padding, multiplier, act);
  }

  static void requireFloat(GraphLowering l, Proto.Node n, Value v) throws ModelFormatException {
    if (v.dtype != DType.FLOAT32) {
      throw l.error(n, "reads the " + v.dtype + " tensor '" + v.name + "'; Kiln compiles " + n.opType() + " on float32, or on"
          + " int8 codes in a QDQ pattern (DequantizeLinear -> " + n.opType() + " -> QuantizeLinear)");
    }
  }

  // ---- QDQ: the integer kernels ------------------------------------------------------------------

  /**
   * An integer plan for a QDQ group DequantizeLinear(x) -> op(DequantizeLinear(w), bias) -> [Relu]
   * -> QuantizeLinear: int8 weight codes with zero point 0 ({@code codes}, weights' layout), one
   * scale or one per output channel, the input and output parameters.
   */
  record Int8(Constant codes, float[] scales, long weightZeroPoint, float inputScale, int inputZeroPoint, QuantOps.Params out) {}

  /**
   * The integer plan, or null when the group does not fit the integer kernels (then the op runs
   * in float between a DEQUANTIZE and a QUANTIZE, which is ONNX's literal meaning).
   *
   * @param channelAxis the weights' axis of output channels
   * @param allowZeroPoint whether a per-tensor weight zero point is allowed (FULLY_CONNECTED)
   */
  static Int8 int8Plan(GraphLowering l, Proto.Node n, Value x, Constant w, GraphLowering.Epilogue e, int channelAxis)
      throws ModelFormatException {
    return int8Plan(l, n, x, w, e, channelAxis, false);
  }

  static Int8 int8Plan(GraphLowering l, Proto.Node n, Value x, Constant w, GraphLowering.Epilogue e, int channelAxis,
                       boolean allowZeroPoint) throws ModelFormatException {
    if (!x.isDequantized() || e.quantize() == null || e.affine() != null) return null;
    Constant.Quantized wq = w.quantized();
    if (wq == null) return null;
    if (!wq.perTensor() && wq.axis() != channelAxis) return null;
    Quantization xq = x.source.phys.quantization();
    if (!xq.isQuantized() || xq.isPerChannel()) return null;
    Constant codes = wq.codes();
    long[] zps = wq.zeroPoints();
    long shift;
    if (codes.dtype() == DType.INT8) {
      shift = 0;
    } else if (codes.dtype() == DType.UINT8) {
      shift = 128; // uint8 weights: code - 128 with zero point - 128 is the same real value
    } else {
      return null;
    }
    long zp = zps[0] - shift;
    for (long z : zps) {
      if (z - shift != zp) return null;
    }
    if (zp != 0 && !(allowZeroPoint && wq.perTensor() && zp >= -128 && zp <= 127)) return null;
    for (float s : wq.scales()) if (!(s > 0) || Float.isInfinite(s)) return null;
    QuantOps.Params out = QuantOps.params(l, e.quantize(), false);
    if (shift != 0) {
      long[] v = codes.longs();
      for (int i = 0; i < v.length; i++) v[i] -= shift;
      codes = Constant.ofLongs(codes.shape(), DType.INT8, v);
    }
    return new Int8(codes, wq.scales().clone(), zp, xq.scale(), xq.zeroPoint(), out);
  }

  /** The ir quantization of the weights in their kernel layout ({@code axis} = output channels there). */
  static Quantization weightQuantization(Int8 q, int axis) {
    if (q.scales.length == 1) return Quantization.perTensor(q.scales[0], q.weightZeroPoint);
    return Quantization.perAxis(q.scales, new long[q.scales.length], axis);
  }

  /**
   * The int32 bias of an integer op with scale {@code input scale * weight scale[c]}: the model's
   * own int32 codes when it stores them with exactly that scale (a QDQ model does), else the float
   * bias divided by that scale and rounded half to even.
   */
  static TensorRef int32Bias(GraphLowering l, String name, Constant b, Int8 q, int channels) {
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) scale[c] = q.inputScale * q.scales[q.scales.length == 1 ? 0 : c];
    return l.constantTensor(name, Constant.ofLongs(new int[] {channels}, DType.INT32, biasCodes(b, q, channels)),
        Quantization.perAxis(scale, new long[channels], 0));
  }

  /** The int32 bias codes of {@link #int32Bias}. */
  static long[] biasCodes(Constant b, Int8 q, int channels) {
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) scale[c] = q.inputScale * q.scales[q.scales.length == 1 ? 0 : c];
    long[] codes = null;
    Constant.Quantized bq = b.quantized();
    if (bq != null && bq.codes().dtype() == DType.INT32 && bq.codes().elements() == channels) {
      boolean same = true;
      for (int c = 0; c < channels; c++) {
        same &= bq.zeroPoints()[bq.perTensor() ? 0 : c] == 0 && bq.scales()[bq.perTensor() ? 0 : c] == scale[c];
      }
      if (same) codes = bq.codes().longs();
    }
    if (codes == null) {
      float[] f = b.floats();
      float[] all = f.length == 1 ? new float[channels] : f;
      if (f.length == 1) Arrays.fill(all, f[0]);
      codes = new long[channels];
      for (int c = 0; c < channels; c++) {
        double v = Math.rint((double) all[c] / scale[c]);
        codes[c] = (long) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
      }
    }
    return codes;
  }

  // ---- pooling --------------------------------------------------------------------------------

  static void maxPool(GraphLowering l, Proto.Node n) throws ModelFormatException {
    pool(l, n, true, false);
  }

  static void averagePool(GraphLowering l, Proto.Node n) throws ModelFormatException {
    pool(l, n, false, false);
  }

  static void globalAveragePool(GraphLowering l, Proto.Node n) throws ModelFormatException {
    pool(l, n, false, true);
  }

  static void globalMaxPool(GraphLowering l, Proto.Node n) throws ModelFormatException {
    pool(l, n, true, true);
  }

  private static void pool(GraphLowering l, Proto.Node n, boolean max, boolean global) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    if (global && !max && x.rank() != 4 && x.rank() >= 3 && !x.isConstant()) {
      ReduceOps.globalMean(l, n, x);
      return;
    }
    if (global && max && x.rank() == 5 && !x.isConstant()) {
      ReduceOps.globalMax(l, n, x); // family: onnx (onnx-ops2): 3-D GlobalMaxPool
      return;
    }
    if (!global && TapPoolOps.needed(l, n, x)) {
      TapPoolOps.pool(l, n, max); // family: onnx (onnx-ops2): 3-D and dilated windows
      return;
    }
    boolean oneD = isOneD(x);
    x = lift(oneD, x);
    requireRank4(l, n, x);
    String out = GraphLowering.output(n, 0);
    if (GraphLowering.output(n, 1) != null && l.isUsed(GraphLowering.output(n, 1))) {
      throw l.error(n, "uses its second output (Indices), which Kiln does not compute");
    }
    Attrs a = l.attrs(n);
    int[] xs = x.shape;
    Window win;
    boolean includePad = false;
    if (global) {
      win = new Window(1, 1, 1, 1, Options.Padding.ZERO, 1, 1);
    } else {
      int[] k = a.ints("kernel_shape");
      if (k != null && k.length == 1 && oneD) k = new int[] {1, k[0]};
      if (k == null || k.length != 2 || k[0] < 1 || k[1] < 1) {
        throw l.error(n, "has kernel_shape " + Arrays.toString(k) + "; expected two sizes >= 1 (2-D pooling)");
      }
      win = window(l, n, xs[2], xs[3], k[0], k[1], true, a.i("ceil_mode", 0) != 0, oneD);
      includePad = !max && a.i("count_include_pad", 0) != 0;
    }
    int[] ks = a.ints("kernel_shape");
    int kh = global ? xs[2] : ks.length == 1 ? 1 : ks[0];
    int kw = global ? xs[3] : ks[ks.length - 1];
    int[] shape = {xs[0], xs[1], win.outH, win.outW};
    int[] physShape = {xs[0], win.outH, win.outW, xs[1]};
    OpType type = max ? OpType.MAX_POOL_2D : OpType.AVERAGE_POOL_2D;
    if (max && x.isDequantized()) {
      // max of dequantized codes = dequantized max of codes: pool the int8 codes
      Value src = x.source;
      TensorRef in = l.layout(src, GraphLowering.NHWC);
      TensorRef t = l.newTensor(out + "/quantized", false, physShape, DType.INT8, in.quantization());
      l.op(type, new Options.Pool(kh, kw, win.strideH, win.strideW, win.padding, Activation.NONE), t, in);
      l.define(n, out, drop(oneD, Value.dequantized(out, Value.permuted(t.name(), t, GraphLowering.NCHW, shape).asUint8(src.uint8))));
      return;
    }
    QLinearOps.Group group = max ? null : QLinearOps.unaryGroup(l, n, x);
    if (group != null) {
      // onnxruntime's QLinearAveragePool takes a window covering the whole image as QLinearGlobalAveragePool
      boolean whole = global || kh == xs[2] && kw == xs[3] && win.padding.equals(Options.Padding.ZERO);
      TensorRef in = l.layout(x.source, GraphLowering.NHWC);
      String name = group.output();
      TensorRef t = l.newTensor(name, true, physShape, DType.INT8, group.quantization());
      Options.Pool window = new Options.Pool(kh, kw, win.strideH, win.strideW, win.padding, Activation.NONE);
      l.op(type, new Options.QLinearPool(window, whole, includePad, group.uint8Domain()), t, in);
      group.take(l);
      l.define(n, name, drop(oneD, Value.permuted(name, t, GraphLowering.NCHW, shape).asUint8(group.uint8Type())));
      return;
    }
    Value xf = l.floatValue(x);
    requireFloat(l, n, xf);
    TensorRef in = l.layout(xf, GraphLowering.NHWC);
    Options.Padding pad = win.padding;
    Options.Padding none = Options.Padding.ZERO;
    if (includePad && !pad.equals(none)) {
      // count_include_pad: the zeros are real taps, so pad explicitly and pool without padding
      int[] padded = {xs[0], xs[2] + pad.top() + pad.bottom(), xs[3] + pad.left() + pad.right(), xs[1]};
      TensorRef p = l.newTensor(out + "/padded", false, padded, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.PAD, new Options.Pad(new int[] {0, pad.top(), pad.left(), 0}, new int[] {0, pad.bottom(), pad.right(), 0}), p, in);
      in = p;
      pad = none;
    }
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    String name = e.beforeQuantize();
    TensorRef t = l.newTensor(name, true, physShape, DType.FLOAT32, Quantization.NONE);
    l.op(type, new Options.Pool(kh, kw, win.strideH, win.strideW, pad, e.activation()), t, in);
    l.take(e.nodes());
    l.define(n, name, drop(oneD, Value.permuted(name, t, GraphLowering.NCHW, shape)));
  }

  // ---- BatchNormalization -----------------------------------------------------------------------

  /** {@code y = (x - mean) * scale + beta} per channel, with {@code scale = gamma / sqrt(var + epsilon)} in float32 (as onnxruntime). */
  static GraphLowering.Affine affine(GraphLowering l, Proto.Node n, int channels) throws ModelFormatException {
    float[][] p = new float[4][];
    String[] roles = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++) {
      Constant c = l.constantInput(n, i + 1, roles[i]);
      if (c.elements() != channels) {
        throw l.error(n, "its " + roles[i] + " has " + c.elements() + " values for " + channels + " channels");
      }
      p[i] = c.floats();
    }
    Attrs a = l.attrs(n);
    float eps = a.f("epsilon", 1e-5f);
    if (l.opset < 9 && a.i("spatial", 1) == 0) throw l.error(n, "has spatial=0 (per-activation statistics), which Kiln does not compile");
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) {
      float invStd = 1f / (float) Math.sqrt(p[3][c] + eps);
      scale[c] = invStd * p[0][c];
    }
    return new GraphLowering.Affine(scale, p[2], p[1]);
  }

  static void batchNormalization(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    String out = GraphLowering.output(n, 0);
    if (x.rank() < 2) throw l.error(n, "has an input of shape " + GraphLowering.shape(x.shape) + "; expected [N, C, ...]");
    if (l.attrs(n).i("training_mode", 0) != 0) {
      throw l.error(n, "has training_mode=1; Kiln compiles inference (training_mode=0)");
    }
    for (int j = 1; j < n.outputs().size(); j++) {
      String o = GraphLowering.output(n, j);
      if (o != null && l.isUsed(o)) throw l.error(n, "uses its output " + j + " (running statistics), which inference does not compute");
    }
    int channels = x.shape[1];
    GraphLowering.Affine af = affine(l, n, channels);
    float[] shift = new float[channels];
    for (int c = 0; c < channels; c++) shift[c] = af.beta()[c] - af.mean()[c] * af.scale()[c];
    int[] cshape = new int[x.rank() - 1];
    Arrays.fill(cshape, 1);
    cshape[0] = channels;
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold BatchNormalization");
    Value xf = l.floatValue(x);
    requireFloat(l, n, xf);
    Value s = Value.constant(out + "/scale", Constant.ofFloats(cshape, af.scale()));
    Value t = Value.constant(out + "/shift", Constant.ofFloats(cshape, shift));
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    Value scaled = MathOps.emitBinary(l, n, OpType.MUL, xf, s, out + "/scaled", Activation.NONE);
    Value y = MathOps.emitBinary(l, n, OpType.ADD, scaled, t, e.beforeQuantize(), e.activation());
    l.take(e.nodes());
    l.define(n, e.beforeQuantize(), y);
  }
}
