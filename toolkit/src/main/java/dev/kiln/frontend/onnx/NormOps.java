package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * Normalizations (issue 9 item 5, onnx-more): LRN (a band-matrix CONV_2D of the squares over the NHWC
 * channels, then POW); InstanceNormalization, LayerNormalization and RMSNormalization as the
 * formulas they are defined by, on existing float kernels (MEAN over the normalized axes, SUB, MUL,
 * ADD of epsilon, RSQRT, then the scale and bias broadcast), in whatever layout the input's bytes have.
 */
final class NormOps {
  private NormOps() {}

  private static final Options PLAIN = new Options.Elementwise(Activation.NONE);

  /**
   * LRN: {@code x * (bias + alpha/size * sum of x^2 over channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^-beta}.
   * TFLite's LOCAL_RESPONSE_NORMALIZATION sums [c - r, c + r), a window ONNX never has, so the sum of squares is a
   * 1x1 CONV_2D with a 0/1 band matrix over the NHWC channels, then MUL, ADD, POW and MUL.
   */
  static void lrn(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "X");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold LRN");
    if (x.rank() != 4) throw l.error(n, "has an input of shape " + GraphLowering.shape(x.shape) + "; Kiln compiles LRN on [N,C,H,W]");
    Attrs a = l.attrs(n);
    int size = a.int32("size", 0);
    if (size < 1) throw l.error(n, "has size " + size + "; it must be at least 1");
    float alpha = a.f("alpha", 1e-4f);
    float beta = a.f("beta", 0.75f);
    float bias = a.f("bias", 1f);
    Value xf = l.floatValue(x);
    NnOps.requireFloat(l, n, xf);
    String out = GraphLowering.output(n, 0);
    int c = x.shape[1];
    Value sq = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/square", false, xf, xf);
    TensorRef in = l.layout(sq, GraphLowering.NHWC);
    int below = (size - 1) / 2;
    int above = size - 1 - below;
    float[] band = new float[c * c];
    for (int o = 0; o < c; o++) {
      for (int i = Math.max(0, o - below); i <= Math.min(c - 1, o + above); i++) band[o * c + i] = 1f;
    }
    TensorRef filter = l.constantTensor(out + "/window", Constant.ofFloats(new int[] {c, 1, 1, c}, band), Quantization.NONE);
    TensorRef sum = l.newTensor(out + "/square_sum", false, in.shape(), DType.FLOAT32, Quantization.NONE);
    l.op(OpType.CONV_2D, new Options.Conv(1, 1, 1, 1, new Options.Padding(0, 0, 0, 0), 1, Activation.NONE), sum, in, filter, null);
    Value s = Value.permuted(sum.name(), sum, GraphLowering.NCHW, x.shape);
    Value k = Value.constant(out + "/alpha", Constant.ofFloats(new int[0], new float[] {alpha / size}));
    Value b = Value.constant(out + "/bias", Constant.ofFloats(new int[0], new float[] {bias}));
    Value e = Value.constant(out + "/beta", Constant.ofFloats(new int[0], new float[] {-beta}));
    Value scaled = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/scaled", false, s, k);
    Value base = EltwiseOps.emit(l, n, OpType.ADD, PLAIN, DType.FLOAT32, out + "/base", false, scaled, b);
    Value p = EltwiseOps.emit(l, n, OpType.POW, new Options.None(), DType.FLOAT32, out + "/factor", false, base, e);
    l.define(n, out, EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out, true, xf, p));
  }

  /** InstanceNormalization: per batch and channel over the spatial axes, then {@code scale[c]} and {@code B[c]}. */
  static void instanceNormalization(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = computed(l, n);
    int r = x.rank();
    if (r < 3) throw l.error(n, "has an input of shape " + GraphLowering.shape(x.shape) + "; it needs [N, C, D1, ...]");
    boolean[] axes = new boolean[r];
    for (int d = 2; d < r; d++) axes[d] = true;
    String out = GraphLowering.output(n, 0);
    Value[] norm = normalize(l, n, x, axes, l.attrs(n).f("epsilon", 1e-5f), out, false);
    int[] cs = new int[r - 1];
    java.util.Arrays.fill(cs, 1);
    cs[0] = x.shape[1];
    Value scale = l.input(n, 1, "scale");
    Value bias = l.input(n, 2, "B");
    if (scale.elements() != x.shape[1] || bias.elements() != x.shape[1]) {
      throw l.error(n, "has scale " + GraphLowering.shape(scale.shape) + " and B " + GraphLowering.shape(bias.shape) + " for "
          + x.shape[1] + " channels");
    }
    Value y = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/scaled", false, norm[0], scale.reshaped(scale.name, cs));
    l.define(n, out, EltwiseOps.emit(l, n, OpType.ADD, PLAIN, DType.FLOAT32, out, true, y, bias.reshaped(bias.name, cs)));
  }

  /** LayerNormalization (opset 17): over the axes from {@code axis} on; optional Mean and InvStdDev outputs. */
  static void layerNormalization(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = computed(l, n);
    int r = x.rank();
    Attrs a = l.attrs(n);
    int axis = a.int32("axis", -1);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    boolean[] axes = new boolean[r];
    for (int d = axis; d < r; d++) axes[d] = true;
    String out = GraphLowering.output(n, 0);
    Value[] norm = normalize(l, n, x, axes, a.f("epsilon", 1e-5f), out, true);
    Value y = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/scaled", false, norm[0], l.floatValue(l.input(n, 1, "Scale")));
    Value b = l.optional(n, 2);
    if (b != null) y = EltwiseOps.emit(l, n, OpType.ADD, PLAIN, DType.FLOAT32, out + "/shifted", false, y, l.floatValue(b));
    if (out != null) l.define(n, out, y.renamed(out));
    String mean = GraphLowering.output(n, 1);
    if (mean != null) l.define(n, mean, norm[1].renamed(mean));
    String inv = GraphLowering.output(n, 2);
    if (inv != null) l.define(n, inv, norm[2].renamed(inv));
  }

  /** RMSNormalization (opset 23): {@code x / sqrt(mean(x^2) + epsilon) * scale} over the axes from {@code axis} on. */
  static void rmsNormalization(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = computed(l, n);
    int r = x.rank();
    Attrs a = l.attrs(n);
    int axis = a.int32("axis", -1);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    boolean[] axes = new boolean[r];
    for (int d = axis; d < r; d++) axes[d] = true;
    String out = GraphLowering.output(n, 0);
    Value sq = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/square", false, x, x);
    Value ms = ReduceOps.kept(l, n, sq, axes, out + "/mean_square", false, OpType.MEAN);
    Value inv = invStd(l, n, ms, a.f("epsilon", 1e-5f), out + "/inv_rms");
    Value y = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out + "/normalized", false, x, inv);
    l.define(n, out, EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, out, true, y, l.floatValue(l.input(n, 1, "scale"))));
  }

  private static Value computed(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "X");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    Value xf = l.floatValue(x);
    NnOps.requireFloat(l, n, xf);
    return xf;
  }

  /** {(x - mean) * invstd, mean, invstd} over {@code axes}, the statistics kept as size-1 axes. */
  private static Value[] normalize(GraphLowering l, Proto.Node n, Value x, boolean[] axes, float eps, String out, boolean named)
      throws ModelFormatException {
    String base = out == null ? n.label() : out;
    Value mean = ReduceOps.kept(l, n, x, axes, base + "/mean", false, OpType.MEAN);
    Value d = EltwiseOps.emit(l, n, OpType.SUB, PLAIN, DType.FLOAT32, base + "/centred", false, x, mean);
    Value sq = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, base + "/square", false, d, d);
    Value var = ReduceOps.kept(l, n, sq, axes, base + "/variance", false, OpType.MEAN);
    Value inv = invStd(l, n, var, eps, base + "/inv_std");
    Value y = EltwiseOps.emit(l, n, OpType.MUL, PLAIN, DType.FLOAT32, base + "/normalized", false, d, inv);
    return new Value[] {y, mean, inv};
  }

  private static Value invStd(GraphLowering l, Proto.Node n, Value var, float eps, String name) throws ModelFormatException {
    Value e = Value.constant(name + "/epsilon", Constant.ofFloats(new int[0], new float[] {eps}));
    Value ve = EltwiseOps.emit(l, n, OpType.ADD, PLAIN, DType.FLOAT32, name + "/plus_epsilon", false, var, e);
    return EltwiseOps.emit(l, n, OpType.RSQRT, new Options.None(), DType.FLOAT32, name, false, ve);
  }
}
