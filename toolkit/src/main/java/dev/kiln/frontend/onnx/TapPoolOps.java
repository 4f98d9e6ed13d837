package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.Arrays;

/**
 * MaxPool and AveragePool over 3-D windows (N, C, D, H, W) or with dilations (onnx-ops2), which the 2-D pool
 * kernels do not take: the window is unrolled into its taps. The input is padded (PAD; for MaxPool the padding
 * is then pushed to -FLT_MAX by adding a constant, so it never wins), each tap is a STRIDED_SLICE of the padded
 * input at the tap's offset with the pool's strides, and the taps are combined by MAXIMUM, or by ADD and a DIV
 * by each output position's tap count (ONNX's count_include_pad rules). Exact for MaxPool; AveragePool sums in
 * tap order, within the float tolerance of onnxruntime's loop.
 */
final class TapPoolOps {
  private TapPoolOps() {}

  /** True when {@link NnOps}' 2-D path cannot take the node: a 5-D input or a dilation other than 1. */
  static boolean needed(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    if (x.isConstant()) return false;
    int[] d = l.attrs(n).ints("dilations");
    boolean dilated = d != null && Arrays.stream(d).anyMatch(v -> v != 1);
    return x.rank() == 5 || dilated && x.rank() >= 3;
  }

  static void pool(GraphLowering l, Proto.Node n, boolean max) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "input"));
    if (x.dtype != DType.FLOAT32) {
      throw l.error(n, "pools the " + x.dtype + " tensor '" + x.name + "' over a 3-D or dilated window; Kiln compiles those in float32");
    }
    if (GraphLowering.output(n, 1) != null && l.isUsed(GraphLowering.output(n, 1))) {
      throw l.error(n, "uses its second output (Indices), which Kiln does not compute");
    }
    int r = x.rank();
    int sd = r - 2;
    Attrs a = l.attrs(n);
    int[] k = a.ints("kernel_shape");
    if (k == null || k.length != sd) throw l.error(n, "has kernel_shape " + Arrays.toString(k) + " for " + sd + " spatial axes");
    int[] s = orOnes(a.ints("strides"), sd);
    int[] dil = orOnes(a.ints("dilations"), sd);
    int[] pads = a.ints("pads");
    if (s.length != sd || dil.length != sd || pads != null && pads.length != 2 * sd) {
      throw l.error(n, "has strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(dil) + " and pads " + Arrays.toString(pads)
          + " for " + sd + " spatial axes");
    }
    for (int i = 0; i < sd; i++) {
      if (k[i] < 1 || s[i] < 1 || dil[i] < 1) throw l.error(n, "has a kernel size, stride or dilation below 1");
    }
    boolean ceil = a.i("ceil_mode", 0) != 0;
    boolean includePad = !max && a.i("count_include_pad", 0) != 0;
    int[][] geo = window(l, n, x.shape, k, s, dil, pads, a.s("auto_pad", "NOTSET"), ceil);
    int[] pb = geo[0];
    int[] pe = geo[1];
    int[] out = geo[2];
    String name = GraphLowering.output(n, 0);
    // pad so that every tap of every window is inside: the pads, and for ceil_mode the last window's overhang
    int[] before = new int[r];
    int[] after = new int[r];
    int[] padded = x.shape.clone();
    boolean any = false;
    for (int i = 0; i < sd; i++) {
      int in = x.shape[i + 2];
      long need = (long) (out[i] - 1) * s[i] + (long) (k[i] - 1) * dil[i] + 1;
      before[i + 2] = pb[i];
      after[i + 2] = (int) Math.max(0, need - in - pb[i]);
      padded[i + 2] = in + before[i + 2] + after[i + 2];
      any |= before[i + 2] > 0 || after[i + 2] > 0;
    }
    Value xp = x;
    if (any) {
      xp = PadOps.zeroPad(l, x, before, after, padded, name + "/padded");
      if (max) {
        // 0 inside, -FLT_MAX in the padding: x + 0 is x exactly, and a padded tap never wins
        int[] ps = new int[r];
        ps[0] = 1;
        ps[1] = 1;
        for (int i = 0; i < sd; i++) ps[i + 2] = padded[i + 2];
        float[] pen = new float[(int) dev.kiln.ir.Shape.elements(ps)];
        int[] pos = new int[sd];
        for (int e = 0; e < pen.length; e++) {
          boolean inside = true;
          for (int i = 0; i < sd; i++) inside &= pos[i] >= before[i + 2] && pos[i] < before[i + 2] + x.shape[i + 2];
          pen[e] = inside ? 0f : -Float.MAX_VALUE;
          for (int i = sd - 1; i >= 0; i--) {
            if (++pos[i] < ps[i + 2]) break;
            pos[i] = 0;
          }
        }
        Value penalty = Value.constant(name + "/padding", Constant.ofFloats(ps, pen));
        xp = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.FLOAT32, name + "/masked", false, xp, penalty);
      }
    }
    int[] shape = x.shape.clone();
    for (int i = 0; i < sd; i++) shape[i + 2] = out[i];
    int taps = 1;
    for (int v : k) taps *= v;
    Value acc = null;
    int[] t = new int[sd];
    for (int tap = 0; tap < taps; tap++) {
      int[] begin = new int[r];
      int[] step = new int[r];
      step[0] = 1;
      step[1] = 1;
      for (int i = 0; i < sd; i++) {
        begin[i + 2] = t[i] * dil[i];
        step[i + 2] = s[i];
      }
      Value v = AxisOps.stridedSlice(l, n, xp, begin, step, shape, name + "/tap" + tap, false);
      acc = acc == null ? v : EltwiseOps.emit(l, n, max ? OpType.MAXIMUM : OpType.ADD,
          max ? new Options.None() : new Options.Elementwise(Activation.NONE), DType.FLOAT32, name + "/acc" + tap, false, acc, v);
      for (int i = sd - 1; i >= 0; i--) {
        if (++t[i] < k[i]) break;
        t[i] = 0;
      }
    }
    if (!max) {
      // each output position's divisor: its taps inside the input (or inside input and pads, count_include_pad)
      int[] cs = new int[r];
      cs[0] = 1;
      cs[1] = 1;
      for (int i = 0; i < sd; i++) cs[i + 2] = out[i];
      float[] count = new float[(int) dev.kiln.ir.Shape.elements(cs)];
      int[] o = new int[sd];
      for (int e = 0; e < count.length; e++) {
        long c = 1;
        for (int i = 0; i < sd; i++) {
          int in = x.shape[i + 2];
          int lo = includePad ? -pb[i] : 0;
          int hi = includePad ? in + pe[i] : in;
          int m = 0;
          for (int j = 0; j < k[i]; j++) {
            int p = o[i] * s[i] - pb[i] + j * dil[i];
            if (p >= lo && p < hi) m++;
          }
          c *= m;
        }
        count[e] = c;
        for (int i = sd - 1; i >= 0; i--) {
          if (++o[i] < out[i]) break;
          o[i] = 0;
        }
      }
      Value div = Value.constant(name + "/count", Constant.ofFloats(cs, count));
      acc = EltwiseOps.emit(l, n, OpType.DIV, new Options.None(), DType.FLOAT32, name + "/mean", false, acc, div);
    }
    l.define(n, name, acc);
  }

  /**
   * {pads before, pads after, output sizes} per spatial axis of an N-D window op over {@code shape} (N, C, spatial...),
   * by ONNX's rules (explicit pads or auto_pad; ceil_mode's last window starts inside the input or its leading pads).
   */
  static int[][] window(GraphLowering l, Proto.Node n, int[] shape, int[] k, int[] s, int[] dil, int[] pads, String autoPad, boolean ceil)
      throws ModelFormatException {
    int sd = shape.length - 2;
    int[] pb = new int[sd];
    int[] pe = new int[sd];
    int[] out = new int[sd];
    for (int i = 0; i < sd; i++) {
      int in = shape[i + 2];
      long eff = (long) (k[i] - 1) * dil[i] + 1;
      switch (autoPad) {
        case "NOTSET", "" -> {
          pb[i] = pads == null ? 0 : pads[i];
          pe[i] = pads == null ? 0 : pads[i + sd];
        }
        case "VALID" -> { }
        case "SAME_UPPER", "SAME_LOWER" -> {
          int o = (in + s[i] - 1) / s[i];
          int total = (int) Math.max(0, (long) (o - 1) * s[i] + eff - in);
          int small = total / 2;
          pb[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
          pe[i] = total - pb[i];
        }
        default -> throw l.error(n, "has auto_pad '" + autoPad + "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
      }
      if (pb[i] < 0 || pe[i] < 0) throw l.error(n, "has negative pads " + Arrays.toString(pads));
      long span = (long) in + pb[i] + pe[i] - eff;
      if (span < 0) throw l.error(n, "its window (" + k[i] + " taps, dilation " + dil[i] + ") is larger than the padded input on axis " + (i + 2));
      long o = ceil ? (span + s[i] - 1) / s[i] + 1 : span / s[i] + 1;
      if (ceil && (o - 1) * s[i] >= (long) in + pb[i]) o--;
      out[i] = (int) o;
    }
    return new int[][] {pb, pe, out};
  }

  static int[] orOnes(int[] v, int n) {
    if (v != null) return v;
    int[] o = new int[n];
    Arrays.fill(o, 1);
    return o;
  }
}
