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
 * ConvTranspose (1-D and 2-D, float32) onto TFLite's TRANSPOSE_CONV (issue 9 item 5, onnx-more).
 * TFLite's kernel scatters input pixel y to output rows {@code y*stride - pad_top + ky} and keeps
 * those inside the output, which is ONNX's definition with pads_begin as pad_top; the output size
 * (pads_end, output_padding, output_shape, auto_pad) only sets how many rows are kept. Dilation
 * is exact with the taps spread apart by zeros; weights [C, M/group, kH, kW] become [M, kH, kW, C] (one table of positions,
 * applied now to constant weights, or by a GATHER on every run to weights computed at run time). group > 1 runs one
 * TRANSPOSE_CONV per group on its slice of the input channels, joined by CONCATENATION.
 */
final class ConvTransposeOps {
  private ConvTransposeOps() {}

  static void convTranspose(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x0 = l.input(n, 0, "input");
    if (x0.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold ConvTranspose");
    if (x0.rank() == 5) {
      convTranspose3d(l, n, x0);
      return;
    }
    boolean oneD = x0.rank() == 3;
    Value x = oneD ? x0.reshaped(x0.name, new int[] {x0.shape[0], x0.shape[1], 1, x0.shape[2]}) : x0;
    if (x.rank() != 4) {
      throw l.error(n, "has an input of shape " + GraphLowering.shape(x0.shape) + "; Kiln compiles 1-D, 2-D and 3-D ConvTranspose"
          + " (3-D NCW, 4-D NCHW or 5-D NCDHW tensors)");
    }
    Value w = l.floatValue(l.input(n, 1, "weights"));
    if (!w.isConstant()) NnOps.requireFloat(l, n, w);
    if (oneD && w.rank() == 3) w = w.reshaped(w.name + "/2d", new int[] {w.shape[0], w.shape[1], 1, w.shape[2]});
    if (w.rank() != 4) throw l.error(n, "has weights of shape " + GraphLowering.shape(w.shape) + "; expected [C, M/group, kH, kW]");
    Value b = n.input(2) == null ? null : l.floatValue(l.input(n, 2, "bias"));
    if (b != null && !b.isConstant()) NnOps.requireFloat(l, n, b);
    Attrs a = l.attrs(n);
    int group = a.int32("group", 1);
    int[] ws = w.shape;
    int c = x.shape[1];
    if (ws[0] != c) throw l.error(n, "has weights " + GraphLowering.shape(ws) + " for " + c + " input channels; expected [C, M/group, kH, kW]");
    if (group < 1 || c % group != 0) throw l.error(n, "has group " + group + " for " + c + " input channels; C must be a multiple of group");
    int mg = ws[1];
    int cg = c / group;
    int m = mg * group;
    if (b != null && b.elements() != m) throw l.error(n, "has a bias of " + b.elements() + " values for " + m + " output channels");
    int[] strides = pair(l, n, a.ints("strides"), oneD, 1, "strides");
    int[] dil = pair(l, n, a.ints("dilations"), oneD, 1, "dilations");
    int[] outPad = pair(l, n, a.ints("output_padding"), oneD, 0, "output_padding");
    int[] ks = a.ints("kernel_shape");
    if (ks != null && oneD && ks.length == 1) ks = new int[] {1, ks[0]};
    if (ks != null && (ks.length != 2 || ks[0] != ws[2] || ks[1] != ws[3])) {
      throw l.error(n, "has kernel_shape " + Arrays.toString(ks) + " but weights " + GraphLowering.shape(ws));
    }
    for (int d = 0; d < 2; d++) {
      if (strides[d] < 1 || dil[d] < 1) throw l.error(n, "has strides " + Arrays.toString(strides) + " and dilations " + Arrays.toString(dil) + "; both must be >= 1");
      if (outPad[d] < 0 || outPad[d] >= Math.max(strides[d], dil[d])) {
        throw l.error(n, "has output_padding " + Arrays.toString(outPad) + "; each must be >= 0 and smaller than its stride or dilation");
      }
    }
    int[] in = {x.shape[2], x.shape[3]};
    int[] k = {(ws[2] - 1) * dil[0] + 1, (ws[3] - 1) * dil[1] + 1};
    int[] full = new int[2];
    for (int d = 0; d < 2; d++) full[d] = strides[d] * (in[d] - 1) + outPad[d] + k[d];
    int[] begin = new int[2];
    int[] out = new int[2];
    int[] shapeAttr = a.ints("output_shape");
    String autoPad = a.s("auto_pad", "NOTSET");
    if (shapeAttr != null) {
      if (oneD && shapeAttr.length == 1) shapeAttr = new int[] {1, shapeAttr[0]};
      if (shapeAttr.length == 4) shapeAttr = new int[] {shapeAttr[2], shapeAttr[3]};
      if (shapeAttr.length != 2) throw l.error(n, "has output_shape " + Arrays.toString(a.ints("output_shape")) + "; expected the spatial sizes");
      for (int d = 0; d < 2; d++) {
        // onnxruntime's rule (conv_transpose_attributes.h), the reference here: a larger output_shape pads the end with
        // the bias, and an odd total crops one more at the start unless SAME_UPPER (measured: convtranspose_output_shape_odd*)
        int total = Math.max(0, full[d] - shapeAttr[d]);
        begin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
        out[d] = shapeAttr[d];
      }
    } else if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
      for (int d = 0; d < 2; d++) {
        out[d] = in[d] * strides[d];
        int total = Math.max(0, full[d] - out[d]);
        begin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
      }
    } else {
      int[] pads = a.ints("pads");
      if (pads != null && oneD && pads.length == 2) pads = new int[] {0, pads[0], 0, pads[1]};
      if (autoPad.equals("VALID") || pads == null) pads = new int[4];
      if (pads.length != 4) throw l.error(n, "has pads " + Arrays.toString(pads) + "; expected 4 entries for a 2-D window");
      for (int v : pads) if (v < 0) throw l.error(n, "has negative pads " + Arrays.toString(pads));
      for (int d = 0; d < 2; d++) {
        begin[d] = pads[d];
        out[d] = full[d] - pads[d] - pads[d + 2];
      }
    }
    if (out[0] < 1 || out[1] < 1) throw l.error(n, "produces the empty output " + out[0] + "x" + out[1]);
    Value xf = l.floatValue(x);
    NnOps.requireFloat(l, n, xf);
    String name = GraphLowering.output(n, 0);
    int wn = (int) w.elements();
    TensorRef flatW = null;
    if (!w.isConstant()) {
      // the weights' elements and one zero for the taps the dilation spreads apart, gathered into place on every run
      TensorRef wRow = l.layout(w.reshaped(w.name + "/elements", new int[] {wn}), null);
      TensorRef zero = l.constantTensor(name + "/zero_tap", Constant.ofFloats(new int[] {1}, new float[1]), Quantization.NONE);
      flatW = l.newTensor(name + "/weights_and_zero", false, new int[] {wn + 1}, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.CONCATENATION, new Options.Concat(0, Activation.NONE), flatW, wRow, zero);
    }
    int[] phys = {x.shape[0], out[0], out[1], m};
    int[] physGroup = {x.shape[0], out[0], out[1], mg};
    Options.Padding pad = new Options.Padding(begin[0], begin[1], 0, 0);
    Options.TransposeConv options = new Options.TransposeConv(strides[0], strides[1], pad, Activation.NONE);
    TensorRef shapeT = l.constantTensor(name + "/output_shape",
        Constant.ofLongs(new int[] {4}, DType.INT32, new long[] {physGroup[0], physGroup[1], physGroup[2], physGroup[3]}), Quantization.NONE);
    TensorRef[] parts = new TensorRef[group];
    for (int gi = 0; gi < group; gi++) {
      String gn = group == 1 ? name : name + "/group" + gi;
      // filter [M/group, kH', kW', C/group]: position of each entry in the weights' elements, wn for a zero
      int[] fs = {mg, k[0], k[1], cg};
      long[] at = new long[mg * k[0] * k[1] * cg];
      java.util.Arrays.fill(at, wn);
      for (int ci = 0; ci < cg; ci++) {
        for (int mi = 0; mi < mg; mi++) {
          for (int y = 0; y < ws[2]; y++) {
            for (int z = 0; z < ws[3]; z++) {
              at[((mi * k[0] + y * dil[0]) * k[1] + z * dil[1]) * cg + ci] = (((long) (gi * cg + ci) * mg + mi) * ws[2] + y) * ws[3] + z;
            }
          }
        }
      }
      TensorRef filter;
      if (w.isConstant()) {
        float[] wf = w.constant.floats();
        float[] f = new float[at.length];
        for (int i = 0; i < at.length; i++) f[i] = at[i] == wn ? 0f : wf[(int) at[i]];
        filter = l.constantTensor(n.inputs().get(1) + "/ohwi" + (group == 1 ? "" : "/group" + gi), Constant.ofFloats(fs, f), Quantization.NONE);
      } else {
        TensorRef positions = l.constantTensor(gn + "/filter_positions", Constant.ofLongs(fs, DType.INT32, at), Quantization.NONE);
        filter = l.newTensor(gn + "/filter", false, fs, DType.FLOAT32, Quantization.NONE);
        l.op(OpType.GATHER, new Options.Gather(0, 0), filter, flatW, positions);
      }
      Value bg = b == null ? null : channels(l, n, b.reshaped(b.name + "/vector", new int[] {m}), 0, gi * mg, mg, gn + "/bias");
      TensorRef bias = bg == null ? null : l.layout(bg, null);
      Value xg = group == 1 ? xf : channels(l, n, xf, 1, gi * cg, cg, gn + "/input");
      TensorRef input = l.layout(xg, GraphLowering.NHWC);
      parts[gi] = l.newTensor(gn, group == 1, physGroup, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.TRANSPOSE_CONV, options, parts[gi], shapeT, filter, input, bias);
    }
    TensorRef t = parts[0];
    if (group > 1) {
      t = l.newTensor(name, true, phys, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.CONCATENATION, new Options.Concat(3, Activation.NONE), t, parts);
    }
    int[] shape = {x.shape[0], m, out[0], out[1]};
    Value v = Value.permuted(name, t, GraphLowering.NCHW, shape);
    l.define(n, name, oneD ? v.reshaped(name, new int[] {shape[0], m, out[1]}) : v);
  }

  /**
   * 3-D ConvTranspose (float32, constant weights) as the 3-D Conv it equals: the input spread apart by the strides (zeros
   * between), padded by {@code dilation*(k-1) - pads_begin} before and {@code dilation*(k-1) - pads_end + output_padding}
   * after (negative amounts crop), convolved with stride 1 by the weights flipped in D, H and W and with input and
   * output channels swapped per group. Spreading, padding and cropping are one GATHER per axis (index n reads an
   * appended zero), the convolution {@link Conv3dOps#emit}. The pads, output_shape and auto_pad rules are the 2-D ones.
   */
  private static void convTranspose3d(GraphLowering l, Proto.Node n, Value x0) throws ModelFormatException {
    Value x = l.floatValue(x0);
    NnOps.requireFloat(l, n, x);
    Constant w = l.constantInput(n, 1, "weights");
    if (w.quantized() != null) w = Constant.ofFloats(w.shape(), w.floats());
    Constant b = n.input(2) == null ? null : l.constantInput(n, 2, "bias");
    int[] ws = w.shape();
    int c = x.shape[1];
    if (w.rank() != 5 || ws[0] != c) {
      throw l.error(n, "has weights " + GraphLowering.shape(ws) + " for " + c + " input channels; expected [C, M/group, kD, kH, kW]");
    }
    Attrs a = l.attrs(n);
    int group = a.int32("group", 1);
    if (group < 1 || c % group != 0) throw l.error(n, "has group " + group + " for " + c + " input channels; C must be a multiple of group");
    int mg = ws[1];
    int cg = c / group;
    int m = mg * group;
    if (b != null && b.elements() != m) throw l.error(n, "has a bias of " + b.elements() + " values for " + m + " output channels");
    int[] s = TapPoolOps.orOnes(a.ints("strides"), 3);
    int[] dil = TapPoolOps.orOnes(a.ints("dilations"), 3);
    int[] outPad = a.ints("output_padding") == null ? new int[3] : a.ints("output_padding");
    int[] k = {ws[2], ws[3], ws[4]};
    int[] ksAttr = a.ints("kernel_shape");
    if (ksAttr != null && !Arrays.equals(ksAttr, k)) throw l.error(n, "has kernel_shape " + Arrays.toString(ksAttr) + " but weights " + GraphLowering.shape(ws));
    if (s.length != 3 || dil.length != 3 || outPad.length != 3) {
      throw l.error(n, "has strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(dil) + " and output_padding "
          + Arrays.toString(outPad) + "; a 3-D ConvTranspose takes 3 of each");
    }
    int[] in = {x.shape[2], x.shape[3], x.shape[4]};
    int[] ext = new int[3];
    int[] full = new int[3];
    for (int d = 0; d < 3; d++) {
      if (s[d] < 1 || dil[d] < 1) throw l.error(n, "has strides " + Arrays.toString(s) + " and dilations " + Arrays.toString(dil) + "; both must be >= 1");
      if (outPad[d] < 0 || outPad[d] >= Math.max(s[d], dil[d])) {
        throw l.error(n, "has output_padding " + Arrays.toString(outPad) + "; each must be >= 0 and smaller than its stride or dilation");
      }
      ext[d] = (k[d] - 1) * dil[d] + 1;
      full[d] = s[d] * (in[d] - 1) + outPad[d] + ext[d];
    }
    int[] begin = new int[3];
    int[] out = new int[3];
    int[] shapeAttr = a.ints("output_shape");
    String autoPad = a.s("auto_pad", "NOTSET");
    if (shapeAttr != null) {
      if (shapeAttr.length == 5) shapeAttr = new int[] {shapeAttr[2], shapeAttr[3], shapeAttr[4]};
      if (shapeAttr.length != 3) throw l.error(n, "has output_shape " + Arrays.toString(a.ints("output_shape")) + "; expected the spatial sizes");
      for (int d = 0; d < 3; d++) {
        int total = Math.max(0, full[d] - shapeAttr[d]); // onnxruntime's rule, as for 2-D
        begin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
        out[d] = shapeAttr[d];
      }
    } else if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
      for (int d = 0; d < 3; d++) {
        out[d] = in[d] * s[d];
        int total = Math.max(0, full[d] - out[d]);
        begin[d] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
      }
    } else {
      int[] pads = a.ints("pads");
      if (autoPad.equals("VALID") || pads == null) pads = new int[6];
      if (pads.length != 6) throw l.error(n, "has pads " + Arrays.toString(pads) + "; expected 6 entries for a 3-D window");
      for (int v : pads) if (v < 0) throw l.error(n, "has negative pads " + Arrays.toString(pads));
      for (int d = 0; d < 3; d++) {
        begin[d] = pads[d];
        out[d] = full[d] - pads[d] - pads[d + 3];
      }
    }
    if (out[0] < 1 || out[1] < 1 || out[2] < 1) throw l.error(n, "produces the empty output " + Arrays.toString(out));
    String name = GraphLowering.output(n, 0);
    // the spread, padded input: position t of axis d reads input q/s when q = t - (ext-1-begin) is a multiple of s, else a zero
    int[][] index = new int[5][];
    int[] zeroAfter = new int[5];
    int[] padded = x.shape.clone();
    for (int d = 0; d < 3; d++) {
      int lead = ext[d] - 1 - begin[d];
      int len = out[d] + ext[d] - 1;
      index[d + 2] = new int[len];
      boolean identity = len == in[d];
      for (int t = 0; t < len; t++) {
        int q = t - lead;
        index[d + 2][t] = q >= 0 && q % s[d] == 0 && q / s[d] < in[d] ? q / s[d] : in[d];
        identity &= index[d + 2][t] == t;
      }
      if (identity) {
        index[d + 2] = null;
      } else {
        zeroAfter[d + 2] = 1;
        padded[d + 2]++;
      }
    }
    boolean spreads = false;
    for (int[] ix : index) spreads |= ix != null;
    Value xz = spreads ? PadOps.zeroPad(l, x, new int[5], zeroAfter, padded, name + "/with_zero") : x;
    Value spread = PadOps.gatherAxes(l, xz, index, name + "/spread", false);
    // the equivalent convolution's weights [M, C/group, kD, kH, kW]: flipped, channels swapped within each group
    float[] wf = w.floats();
    float[] cf = new float[wf.length];
    int vol = k[0] * k[1] * k[2];
    for (int gi = 0; gi < group; gi++) {
      for (int ci = 0; ci < cg; ci++) {
        for (int mi = 0; mi < mg; mi++) {
          int src = ((gi * cg + ci) * mg + mi) * vol;
          int dst = ((gi * mg + mi) * cg + ci) * vol;
          for (int v = 0; v < vol; v++) cf[dst + v] = wf[src + vol - 1 - v];
        }
      }
    }
    Constant cw = Constant.ofFloats(new int[] {m, cg, k[0], k[1], k[2]}, cf);
    l.define(n, name, Conv3dOps.emit(l, n, spread, cw, b, group, new int[] {1, 1, 1}, dil, new int[3], new int[3], out, name));
  }

  /** Entries [from, from+count) of {@code v} along {@code axis}: folded for a constant, else a STRIDED_SLICE. */
  private static Value channels(GraphLowering l, Proto.Node n, Value v, int axis, int from, int count, String name)
      throws ModelFormatException {
    int r = v.rank();
    int[] begin = new int[r];
    int[] step = new int[r];
    Arrays.fill(step, 1);
    int[] shape = v.shape.clone();
    begin[axis] = from;
    shape[axis] = count;
    if (from == 0 && count == v.shape[axis]) return v;
    return v.isConstant() ? Value.constant(name, FoldOps.strided(v.constant, begin, step, shape))
        : AxisOps.stridedSlice(l, n, v, begin, step, shape, name, false);
  }

  private static int[] pair(GraphLowering l, Proto.Node n, int[] v, boolean oneD, int dflt, String what) throws ModelFormatException {
    if (v == null) return new int[] {dflt, dflt};
    if (oneD && v.length == 1) return new int[] {oneD ? (what.equals("output_padding") ? 0 : 1) : dflt, v[0]};
    if (v.length != 2) throw l.error(n, "has " + what + " " + Arrays.toString(v) + "; expected 2 entries for a 2-D window");
    return v;
  }
}
