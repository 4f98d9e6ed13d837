package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.Arrays;

/**
 * 3-D Conv (N, C, D, H, W) on the 2-D kernels (onnx-ops2): the input, padded along D, is laid out NDHWC once; for
 * each depth tap t of the weights, the depths {@code o*strideD + t*dilationD} (o = 0..Do-1, a STRIDED_SLICE) are
 * N*Do images [H, W, C] for one CONV_2D (grouped for 1 < group < C, DEPTHWISE_CONV_2D for group == C) with the H/W strides, pads and
 * dilations; the taps are summed by ADD, the bias riding on tap 0. Float32 only.
 */
final class Conv3dOps {
  private Conv3dOps() {}

  static void conv3d(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "input"));
    NnOps.requireFloat(l, n, x);
    Constant w = l.constantInput(n, 1, "weights");
    if (w.quantized() != null) w = Constant.ofFloats(w.shape(), w.floats());
    Constant b = n.input(2) == null ? null : l.constantInput(n, 2, "bias");
    int[] ws = w.shape();
    if (w.rank() != 5) throw l.error(n, "has weights of shape " + GraphLowering.shape(ws) + "; expected [M, C/group, kD, kH, kW]");
    Attrs a = l.attrs(n);
    int group = a.int32("group", 1);
    int m = ws[0];
    int c = x.shape[1];
    if (group < 1 || (long) ws[1] * group != c || m % group != 0) {
      throw l.error(n, "has group " + group + " with input channels " + c + " and weights " + GraphLowering.shape(ws)
          + "; expected C = group * weights[1] and M divisible by group");
    }
    // group = C is DEPTHWISE_CONV_2D; other groups a grouped CONV_2D (filter depth C/group)
    boolean depthwise = group == c && group > 1;
    int[] k = {ws[2], ws[3], ws[4]};
    int[] ks = a.ints("kernel_shape");
    if (ks != null && !Arrays.equals(ks, k)) throw l.error(n, "has kernel_shape " + Arrays.toString(ks) + " but weights " + GraphLowering.shape(ws));
    if (b != null && b.elements() != m) throw l.error(n, "has a bias of " + b.elements() + " values for " + m + " output channels");
    int[] s = TapPoolOps.orOnes(a.ints("strides"), 3);
    int[] dil = TapPoolOps.orOnes(a.ints("dilations"), 3);
    int[] pads = a.ints("pads");
    if (s.length != 3 || dil.length != 3 || pads != null && pads.length != 6) {
      throw l.error(n, "has strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(dil) + " and pads " + Arrays.toString(pads)
          + "; a 3-D Conv takes 3, 3 and 6 values");
    }
    for (int i = 0; i < 3; i++) if (s[i] < 1 || dil[i] < 1) throw l.error(n, "has a stride or dilation below 1");
    int[][] geo = TapPoolOps.window(l, n, x.shape, k, s, dil, pads, a.s("auto_pad", "NOTSET"), false);
    String name = GraphLowering.output(n, 0);
    l.define(n, name, emit(l, n, x, w, b, group, s, dil, geo[0], geo[1], geo[2], name));
  }

  /**
   * The 3-D convolution of the computed float32 {@code x} [N, C, D, H, W] by the constant weights {@code w}
   * [M, C/group, kD, kH, kW] (and bias), with these strides, dilations, pads before/after and output size per axis.
   */
  static Value emit(GraphLowering l, Proto.Node n, Value x, Constant w, Constant b, int group, int[] s, int[] dil, int[] pb, int[] pe,
                    int[] out, String name) throws ModelFormatException {
    int[] ws = w.shape();
    int m = ws[0];
    int c = x.shape[1];
    boolean depthwise = group == c && group > 1;
    int[] k = {ws[2], ws[3], ws[4]};
    int nb = x.shape[0];
    int depth = x.shape[2];
    // pad D only (H and W are the 2-D kernel's pads), as far as the last window reaches
    int need = (out[0] - 1) * s[0] + (k[0] - 1) * dil[0] + 1;
    int after = Math.max(0, need - depth - pb[0]);
    int dp = depth + pb[0] + after;
    Value xp = x;
    if (pb[0] > 0 || after > 0) {
      int[] padded = x.shape.clone();
      padded[2] = dp;
      xp = PadOps.zeroPad(l, x, new int[] {0, 0, pb[0], 0, 0}, new int[] {0, 0, after, 0, 0}, padded, name + "/padded");
    }
    // NDHWC once; then per tap the depths o*strideD + t*dilationD (a STRIDED_SLICE), seen as N*Do images
    TensorRef nd = l.layout(ShapeOps.permute(l, xp, new int[] {0, 2, 3, 4, 1}, name + "/ndhwc"), null);
    Value ndhwc = Value.tensor(nd.name(), nd, nd.shape());
    Options.Conv o = new Options.Conv(s[1], s[2], dil[1], dil[2], new Options.Padding(pb[1], pb[2], pe[1], pe[2]),
        depthwise ? m / c : 1, Activation.NONE);
    float[] wf = w.floats();
    int plane = ws[3] * ws[4];
    int[] ws2 = {m, ws[1], ws[3], ws[4]};
    int[] phys = {nb * out[0], out[1], out[2], m};
    Value acc = null;
    for (int t = 0; t < k[0]; t++) {
      Value taps = ndhwc;
      if (dp != out[0]) {
        taps = AxisOps.stridedSlice(l, n, ndhwc, new int[] {0, t * dil[0], 0, 0, 0}, new int[] {1, s[0], 1, 1, 1},
            new int[] {nb, out[0], x.shape[3], x.shape[4], c}, name + "/depth" + t, false);
      }
      TensorRef in = l.layout(taps.reshaped(taps.name + "/images", new int[] {nb * out[0], x.shape[3], x.shape[4], c}), null);
      float[] wt = new float[m * ws[1] * plane];
      for (int oc = 0; oc < m * ws[1]; oc++) System.arraycopy(wf, (oc * k[0] + t) * plane, wt, oc * plane, plane);
      Constant ft = Constant.ofFloats(ws2, wt).transpose(depthwise ? new int[] {1, 2, 3, 0} : GraphLowering.NHWC);
      TensorRef filter = l.constantTensor(n.inputs().get(1) + "/tap" + t, ft, Quantization.NONE);
      TensorRef bias = t == 0 && b != null ? l.constantTensor(n.inputs().get(2), Constant.ofFloats(new int[] {m}, b.floats()),
          Quantization.NONE) : null;
      TensorRef r = l.newTensor(name + "/tap" + t, false, phys, DType.FLOAT32, Quantization.NONE);
      l.op(depthwise ? OpType.DEPTHWISE_CONV_2D : OpType.CONV_2D, o, r, in, filter, bias);
      Value v = Value.tensor(r.name(), r, phys).reshaped(r.name(), new int[] {nb, out[0], out[1], out[2], m});
      acc = acc == null ? v : EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.FLOAT32,
          name + "/sum" + t, false, acc, v);
    }
    return ShapeOps.permute(l, acc, new int[] {0, 4, 1, 2, 3}, name);
  }
}
