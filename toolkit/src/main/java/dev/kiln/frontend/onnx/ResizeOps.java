package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.Arrays;

/**
 * Resize (opsets 10 to 19) and Upsample of the height and width of a 4-D NCHW value, run in NHWC
 * (issue 9 item 5, onnx-more).
 *
 * <p>nearest: the source row and column of every output pixel are computed here exactly as
 * onnxruntime does (its coordinate transform in float, then its nearest_mode rounding, clamped to the
 * image); when they are the ones TFLite's RESIZE_NEAREST_NEIGHBOR picks for some align_corners /
 * half_pixel_centers setting that kernel runs, otherwise two GATHERs with those index tables do
 * (any coordinate mode, any scale). linear: RESIZE_BILINEAR, whose interpolation is the same
 * arithmetic as onnxruntime's when the coordinate mode is half_pixel, pytorch_half_pixel,
 * align_corners or asymmetric and the scale is the size ratio; other forms are refused. cubic: per axis four GATHERs of
 * the taps around each source coordinate, weighted by onnxruntime's cubic coefficients (cubic_coeff_a, exclude_outside)
 * and summed (MUL, ADD), columns then rows.
 */
final class ResizeOps {
  private ResizeOps() {}

  static void resize(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "X");
    Attrs a = l.attrs(n);
    boolean upsample = n.opType().equals("Upsample");
    boolean v10 = upsample || l.opset < 11;
    float[] scales = null;
    long[] sizes = null;
    if (upsample && l.opset < 9) {
      scales = a.floats("scales");
      if (scales == null) throw l.error(n, "has no scales attribute");
    } else if (v10) {
      scales = l.constantInput(n, 1, "scales").floats();
    } else {
      if (n.input(2) != null) {
        Constant s = l.constantInput(n, 2, "scales");
        if (s.elements() > 0) scales = s.floats();
      }
      if (n.input(3) != null) {
        Constant s = l.constantInput(n, 3, "sizes");
        if (s.elements() > 0) sizes = s.longs();
      }
      if ((scales == null) == (sizes == null)) throw l.error(n, "needs exactly one of scales and sizes");
    }
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold " + n.opType());
    int r = x.rank();
    if (r != 4) {
      throw l.error(n, "resizes a rank-" + r + " input " + GraphLowering.shape(x.shape) + "; Kiln resizes the height and width of"
          + " 4-D NCHW tensors");
    }
    int[] axes = a.ints("axes");
    if (axes != null) {
      // opset 18: scales/sizes only for the listed axes, the others keep their size
      float[] fullScales = new float[r];
      long[] fullSizes = new long[r];
      Arrays.fill(fullScales, 1f);
      for (int d = 0; d < r; d++) fullSizes[d] = x.shape[d];
      for (int k = 0; k < axes.length; k++) {
        int d = axes[k] < 0 ? axes[k] + r : axes[k];
        if (d < 0 || d >= r) throw l.error(n, "has axis " + axes[k] + " for a rank-" + r + " input");
        if (scales != null && k < scales.length) fullScales[d] = scales[k];
        if (sizes != null && k < sizes.length) fullSizes[d] = sizes[k];
      }
      if (scales != null) scales = fullScales;
      if (sizes != null) sizes = fullSizes;
    }
    int[] out = new int[r];
    float[] scale = new float[r];
    if (scales != null) {
      if (scales.length != r) throw l.error(n, "has " + scales.length + " scales for a rank-" + r + " input");
      for (int d = 0; d < r; d++) {
        if (!(scales[d] > 0)) throw l.error(n, "has scale " + scales[d] + "; scales must be positive");
        scale[d] = scales[d];
        out[d] = (int) Math.floor((float) x.shape[d] * scales[d]);
      }
    } else {
      if (sizes.length != r) throw l.error(n, "has " + sizes.length + " sizes for a rank-" + r + " input");
      String policy = a.s("keep_aspect_ratio_policy", "stretch");
      if (!policy.equals("stretch")) {
        throw l.error(n, "has keep_aspect_ratio_policy " + policy + "; Kiln resizes with 'stretch' (sizes as given)");
      }
      for (int d = 0; d < r; d++) {
        if (sizes[d] < 1 || sizes[d] > Integer.MAX_VALUE) throw l.error(n, "has size " + sizes[d] + "; sizes must be >= 1");
        out[d] = (int) sizes[d];
        scale[d] = (float) out[d] / (float) x.shape[d];
      }
    }
    if (out[0] != x.shape[0] || out[1] != x.shape[1]) {
      throw l.error(n, "resizes the batch or channel axis (" + GraphLowering.shape(x.shape) + " to " + GraphLowering.shape(out)
          + "); Kiln resizes height and width only");
    }
    if (out[2] < 1 || out[3] < 1) throw l.error(n, "resizes to the empty " + GraphLowering.shape(out));
    String mode = a.s("mode", "nearest");
    String coord = v10 ? "asymmetric" : a.s("coordinate_transformation_mode", "half_pixel");
    String nearestMode = v10 ? "simple" : a.s("nearest_mode", "round_prefer_floor");
    if (coord.equals("tf_crop_and_resize")) {
      throw l.error(n, "has coordinate_transformation_mode tf_crop_and_resize; Kiln resizes whole images (half_pixel,"
          + " pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, half_pixel_symmetric)");
    }
    String name = GraphLowering.output(n, 0);
    Value xf = l.floatValue(x);
    if (xf.dtype != DType.FLOAT32 && mode.equals("linear")) {
      throw l.error(n, "resizes the " + xf.dtype + " tensor '" + x.name + "' linearly; Kiln interpolates float32");
    }
    TensorRef in = l.layout(xf, GraphLowering.NHWC);
    int[] phys = {out[0], out[2], out[3], out[1]};
    switch (mode) {
      case "nearest" -> {
        int[] rows = nearest(l, n, x.shape[2], out[2], scale[2], coord, nearestMode);
        int[] cols = nearest(l, n, x.shape[3], out[3], scale[3], coord, nearestMode);
        Options.Resize tfl = tfliteNearest(x.shape[2], out[2], rows, x.shape[3], out[3], cols);
        TensorRef t;
        if (tfl != null) {
          t = l.newTensor(name, true, phys, in.dtype(), in.quantization());
          TensorRef size = l.constantTensor(name + "/size", Constant.ofLongs(new int[] {2}, DType.INT32, new long[] {out[2], out[3]}),
              Quantization.NONE);
          l.op(OpType.RESIZE_NEAREST_NEIGHBOR, tfl, t, in, size);
        } else {
          TensorRef h = gather(l, in, 1, rows, name + "/rows", name);
          t = gather(l, h, 2, cols, name, name);
        }
        l.define(n, name, Value.permuted(name, t, GraphLowering.NCHW, out));
      }
      case "linear", "bilinear" -> {
        if (a.i("antialias", 0) != 0 && (scale[2] < 1f || scale[3] < 1f)) {
          throw l.error(n, "downsamples with antialias 1; Kiln interpolates linearly without an antialiasing filter");
        }
        Options.Resize tfl = tfliteLinear(l, n, x.shape, out, scale, coord);
        TensorRef t = l.newTensor(name, true, phys, in.dtype(), in.quantization());
        TensorRef size = l.constantTensor(name + "/size", Constant.ofLongs(new int[] {2}, DType.INT32, new long[] {out[2], out[3]}),
            Quantization.NONE);
        l.op(OpType.RESIZE_BILINEAR, tfl, t, in, size);
        l.define(n, name, Value.permuted(name, t, GraphLowering.NCHW, out));
      }
      case "cubic" -> {
        if (xf.dtype != DType.FLOAT32) throw l.error(n, "resizes the " + xf.dtype + " tensor '" + x.name + "' cubically; Kiln interpolates float32");
        if (a.i("antialias", 0) != 0 && (scale[2] < 1f || scale[3] < 1f)) {
          throw l.error(n, "downsamples with antialias 1; Kiln interpolates cubically without an antialiasing filter");
        }
        float ca = a.f("cubic_coeff_a", -0.75f);
        boolean exclude = a.i("exclude_outside", 0) != 0;
        // columns first, then rows: out = sum_i cy_i * (sum_j cx_j * x[y_i, x_j]), onnxruntime's order
        Value cols = cubicPass(l, n, Value.tensor(in.name(), in, in.shape()), 2, x.shape[3], out[3], scale[3], coord, ca, exclude, name + "/columns");
        Value rows = cubicPass(l, n, cols, 1, x.shape[2], out[2], scale[2], coord, ca, exclude, name + "/rows");
        TensorRef t = l.layout(rows, null);
        l.define(n, name, Value.permuted(name, t, GraphLowering.NCHW, out));
      }
      default -> throw l.error(n, "has mode " + mode + "; Kiln compiles nearest, linear and cubic resizing");
    }
  }

  /**
   * One axis of cubic resizing on the NHWC value {@code v}: four GATHERs of the taps floor(c) - 1 .. floor(c) + 2 of every
   * output's source coordinate c (clamped to the image, or with exclude_outside dropped and the other weights renormalized),
   * each multiplied by its weights (a constant along the axis) and summed. The weights are onnxruntime's GetCubicCoeffs.
   */
  private static Value cubicPass(GraphLowering l, Proto.Node n, Value v, int axis, int in, int out, float scale, String coord, float ca,
      boolean exclude, String name) throws ModelFormatException {
    switch (coord) {
      case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric" -> { }
      default -> throw l.error(n, "resizes cubically with coordinate_transformation_mode " + coord + "; Kiln takes half_pixel,"
          + " pytorch_half_pixel, align_corners, asymmetric and half_pixel_symmetric");
    }
    if (in == out && scale == 1f) return v; // every mode maps o to o, whose weights are 0, 1, 0, 0
    int[][] idx = new int[4][out];
    float[][] w = new float[4][out];
    for (int o = 0; o < out; o++) {
      float c = original(o, in, out, scale, coord);
      float base = (float) Math.floor(c);
      float t = c - base;
      float[] k = cubicCoeffs(t, ca);
      float sum = 0f;
      for (int j = 0; j < 4; j++) {
        int at = (int) base - 1 + j;
        boolean inside = at >= 0 && at < in;
        idx[j][o] = Math.max(0, Math.min(in - 1, at));
        w[j][o] = exclude && !inside ? 0f : k[j];
        sum += w[j][o];
      }
      if (exclude) for (int j = 0; j < 4; j++) w[j][o] /= sum;
    }
    TensorRef src = l.layout(v, null);
    Value acc = null;
    for (int j = 0; j < 4; j++) {
      long[] li = new long[out];
      for (int o = 0; o < out; o++) li[o] = idx[j][o];
      TensorRef ti = l.constantTensor(name + "/tap" + j + "/index", Constant.ofLongs(new int[] {out}, DType.INT32, li), Quantization.NONE);
      int[] gs = src.shape().clone();
      gs[axis] = out;
      TensorRef g = l.newTensor(name + "/tap" + j, false, gs, src.dtype(), src.quantization());
      l.op(OpType.GATHER, new Options.Gather(axis, 0), g, src, ti);
      int[] ws = {1, 1, 1, 1};
      ws[axis] = out;
      Value wj = Value.constant(name + "/weights" + j, Constant.ofFloats(ws, w[j]));
      Value term = EltwiseOps.emit(l, n, OpType.MUL, new Options.Elementwise(dev.kiln.ir.Activation.NONE), DType.FLOAT32,
          name + "/term" + j, false, Value.tensor(g.name(), g, g.shape()), wj);
      acc = acc == null ? term : EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(dev.kiln.ir.Activation.NONE), DType.FLOAT32,
          name + "/sum" + j, false, acc, term);
    }
    return acc;
  }

  /** onnxruntime's GetCubicCoeffs (upsample.cc): the weights of the taps at -1, 0, 1, 2 for fraction s, in float. */
  private static float[] cubicCoeffs(float s, float a) {
    float t = Math.abs(s);
    return new float[] {
        ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a};
  }

  /** onnxruntime's source coordinate of output index {@code v} (upsamplebase.h), in float as it computes it. */
  static float original(int v, int in, int out, float scale, String coord) {
    float xr = v;
    return switch (coord) {
      case "half_pixel" -> (xr + 0.5f) / scale - 0.5f;
      case "pytorch_half_pixel" -> out > 1 ? (xr + 0.5f) / scale - 0.5f : 0f;
      case "align_corners" -> out == 1 ? 0f : xr * (float) (in - 1) / (float) (out - 1);
      case "tf_half_pixel_for_nn" -> (xr + 0.5f) / scale;
      case "half_pixel_symmetric" -> {
        float outputWidth = scale * in;
        float adjustment = out / outputWidth;
        float center = in / 2f;
        float offset = center * (1f - adjustment);
        yield offset + (xr + 0.5f) / scale - 0.5f;
      }
      default -> xr / scale;
    };
  }

  private static int[] nearest(GraphLowering l, Proto.Node n, int in, int out, float scale, String coord, String mode)
      throws ModelFormatException {
    switch (coord) {
      case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "half_pixel_symmetric" -> { }
      default -> throw l.error(n, "has coordinate_transformation_mode " + coord + ", which ONNX does not define");
    }
    int[] idx = new int[out];
    for (int v = 0; v < out; v++) {
      float f = original(v, in, out, scale, coord);
      long k = switch (mode) {
        case "round_prefer_floor" -> f == (float) (long) f + 0.5f ? (long) Math.floor(f) : roundHalfAway(f);
        case "round_prefer_ceil" -> roundHalfAway(f);
        case "floor" -> (long) Math.floor(f);
        case "ceil" -> (long) Math.ceil(f);
        case "simple" -> scale < 1f ? (long) Math.ceil(f) : (long) f;
        default -> throw l.error(n, "has nearest_mode " + mode + "; expected round_prefer_floor, round_prefer_ceil, floor or ceil");
      };
      idx[v] = (int) Math.max(0, Math.min(k, in - 1));
    }
    return idx;
  }

  /** std::round: halves away from zero. */
  private static long roundHalfAway(float f) {
    return f >= 0 ? (long) Math.floor(f + 0.5) : -(long) Math.floor(-f + 0.5);
  }

  /** The TFLite nearest-neighbour setting that picks exactly these rows and columns, or null. */
  private static Options.Resize tfliteNearest(int inH, int outH, int[] rows, int inW, int outW, int[] cols) {
    for (boolean align : new boolean[] {false, true}) {
      for (boolean half : new boolean[] {false, true}) {
        Options.Resize o = new Options.Resize(align, half);
        if (matches(o, inH, outH, rows) && matches(o, inW, outW, cols)) return o;
      }
    }
    return null;
  }

  private static boolean matches(Options.Resize o, int in, int out, int[] idx) {
    // the rule of TFLite's reference resize_nearest_neighbor (as IndexTableEmitter.nearest computes it)
    float scale = (o.alignCorners() && out > 1) ? (in - 1) / (float) (out - 1) : in / (float) out;
    float offset = o.halfPixelCenters() ? 0.5f : 0.0f;
    for (int v = 0; v < out; v++) {
      float f = ((float) v + offset) * scale;
      int r = Math.min(o.alignCorners() ? (int) roundHalfAway(f) : (int) Math.floor(f), in - 1);
      if (o.halfPixelCenters()) r = Math.max(0, r);
      if (r != idx[v]) return false;
    }
    return true;
  }

  /** A GATHER of {@code idx} along physical axis {@code axis}, or {@code t} itself when idx is the identity. */
  private static TensorRef gather(GraphLowering l, TensorRef t, int axis, int[] idx, String wanted, String name) {
    boolean identity = idx.length == t.shape()[axis];
    for (int v = 0; identity && v < idx.length; v++) identity = idx[v] == v;
    if (identity) return t;
    long[] li = new long[idx.length];
    for (int v = 0; v < idx.length; v++) li[v] = idx[v];
    TensorRef ti = l.constantTensor(name + "/index" + axis, Constant.ofLongs(new int[] {idx.length}, DType.INT32, li), Quantization.NONE);
    int[] shape = t.shape().clone();
    shape[axis] = idx.length;
    TensorRef o = l.newTensor(wanted, wanted.equals(name), shape, t.dtype(), t.quantization());
    l.op(OpType.GATHER, new Options.Gather(axis, 0), o, t, ti);
    return o;
  }

  /** RESIZE_BILINEAR's setting for this coordinate mode, or a refusal naming what would work. */
  private static Options.Resize tfliteLinear(GraphLowering l, Proto.Node n, int[] in, int[] out, float[] scale, String coord)
      throws ModelFormatException {
    for (int d = 2; d < 4; d++) {
      float ratio = (float) out[d] / (float) in[d];
      if (!coord.equals("align_corners") && Math.abs(scale[d] - ratio) > 1e-6f * ratio) {
        throw l.error(n, "scales axis " + d + " by " + scale[d] + " to " + out[d] + " of " + in[d] + " pixels (ratio " + ratio
            + "); Kiln interpolates linearly when the scale is the size ratio (give sizes, or a scale whose product is whole)");
      }
    }
    return switch (coord) {
      case "align_corners" -> new Options.Resize(true, false);
      case "asymmetric" -> new Options.Resize(false, false);
      case "half_pixel" -> new Options.Resize(false, true);
      case "pytorch_half_pixel" -> {
        if ((out[2] == 1 && in[2] > 1) || (out[3] == 1 && in[3] > 1)) {
          throw l.error(n, "resizes to a single row or column with pytorch_half_pixel (source 0, not the centre); Kiln"
              + " interpolates that with half_pixel, align_corners or asymmetric");
        }
        yield new Options.Resize(false, true);
      }
      default -> throw l.error(n, "interpolates linearly with coordinate_transformation_mode " + coord + "; Kiln's"
          + " RESIZE_BILINEAR takes half_pixel, pytorch_half_pixel, align_corners and asymmetric");
    };
  }
}
