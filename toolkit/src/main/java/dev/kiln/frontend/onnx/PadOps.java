package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.Arrays;

/**
 * Pad in constant mode onto Kiln's PAD kernel, which pads with zeros (float32) or the zero point
 * (int8 codes: the real value 0, so a DequantizeLinear -> Pad(0) pads the codes and stays exact), or PADV2 for
 * another float32 value; modes reflect, edge and wrap copy input elements, so they are one GATHER per padded axis.
 * Pads are attributes before opset 11, inputs from 11 (with {@code axes} from 18); they are mapped
 * onto the tensor's physical axes, so padding H and W of an NHWC tensor needs no transpose.
 * Constants are padded at compile time, in any constant value.
 */
final class PadOps {
  private PadOps() {}

  static void pad(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    Attrs a = l.attrs(n);
    String mode = a.s("mode", "constant");
    int r = x.rank();
    long[] pads;
    float value;
    long[] axes = null;
    if (l.opset < 11) {
      pads = a.longs(l.opset < 2 ? "paddings" : "pads");
      value = a.f("value", 0f);
      if (pads == null) throw l.error(n, "has no pads attribute");
    } else {
      pads = l.constantInput(n, 1, "pads").longs();
      Value v = l.optional(n, 2);
      if (v != null && !v.isConstant()) {
        throw l.error(n, "its constant_value (input 2, '" + v.name + "') is computed at run time; Kiln needs it at compile time"
            + l.constantHint(v));
      }
      value = v == null || v.constant.elements() == 0 ? 0f : v.constant.floats()[0];
      if (n.input(3) != null) axes = l.constantInput(n, 3, "axes").longs();
    }
    int k = axes == null ? r : axes.length;
    if (pads.length != 2 * k) {
      throw l.error(n, "has " + pads.length + " pads for " + k + " axes; expected " + 2 * k + " (all begins, then all ends)");
    }
    int[] before = new int[r];
    int[] after = new int[r];
    for (int i = 0; i < k; i++) {
      long ax = axes == null ? i : axes[i];
      if (ax < -r || ax >= r) throw l.error(n, "has axis " + ax + " for a rank-" + r + " input");
      int d = (int) (ax < 0 ? ax + r : ax);
      if (Math.abs(pads[i]) > Integer.MAX_VALUE / 4 || Math.abs(pads[i + k]) > Integer.MAX_VALUE / 4) {
        throw l.error(n, "pads axis " + d + " by " + pads[i] + " and " + pads[i + k] + "; no tensor Kiln can hold has that size");
      }
      before[d] = (int) pads[i];
      after[d] = (int) pads[i + k];
    }
    int[] shape = new int[r];
    boolean negative = false;
    for (int d = 0; d < r; d++) {
      long size = (long) x.shape[d] + before[d] + after[d];
      negative |= before[d] < 0 || after[d] < 0;
      if (size < 0) throw l.error(n, "crops axis " + d + " of " + GraphLowering.shape(x.shape) + " below size 0");
      if (size > Integer.MAX_VALUE) throw l.error(n, "pads axis " + d + " of " + GraphLowering.shape(x.shape) + " to " + size);
      shape[d] = (int) size;
    }
    String out = GraphLowering.output(n, 0);
    if (!mode.equals("constant")) {
      copyPad(l, n, x, mode, before, after, shape, out);
      return;
    }
    if (x.isConstant()) {
      dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the padded constant", shape, x.constant.dtype().byteSize());
      l.define(n, out, Value.constant(out, foldPad(x.constant, before, shape, value)));
      return;
    }
    if (negative) {
      throw l.error(n, "has negative pads " + Arrays.toString(pads) + " (cropping); Kiln's PAD kernel only adds (cropping needs a"
          + " SLICE kernel)");
    }
    if (value != 0f) {
      // the value need not be a code of the input's quantization: a dequantized input is padded in float32
      Value xf = l.floatValue(x);
      if (xf.dtype != DType.FLOAT32) {
        throw l.error(n, "pads the " + xf.dtype + " tensor '" + x.name + "' with the value " + value + "; Kiln pads float32 with any"
            + " value and int8 codes with the real value 0 only");
      }
      // PADV2: the value is its input 2, the paddings (input 1) are in the options as for PAD
      GraphLowering.Stored stored = l.stored(xf);
      TensorRef in = stored.tensor();
      int[] perm = stored.perm();
      int[] pb = new int[r];
      int[] pa = new int[r];
      int[] phys = in.shape().clone();
      long[] paddings = new long[2 * r];
      for (int d = 0; d < r; d++) {
        int p = perm == null ? d : perm[d];
        pb[p] = before[d];
        pa[p] = after[d];
        phys[p] = shape[d];
      }
      for (int p = 0; p < r; p++) {
        paddings[2 * p] = pb[p];
        paddings[2 * p + 1] = pa[p];
      }
      TensorRef tp = l.constantTensor(out + "/paddings", Constant.ofLongs(new int[] {r, 2}, DType.INT32, paddings), Quantization.NONE);
      TensorRef tv = l.constantTensor(out + "/value", Constant.ofFloats(new int[] {1}, new float[] {value}), Quantization.NONE);
      TensorRef t = l.newTensor(out, true, phys, DType.FLOAT32, Quantization.NONE);
      l.op(OpType.PADV2, new Options.Pad(pb, pa), t, in, tp, tv);
      l.define(n, out, Value.permuted(out, t, perm, shape));
      return;
    }
    if (x.isDequantized()) {
      // zeros are the zero point's codes: pad the codes, with the same quantization
      Value src = x.source;
      Value padded = emit(l, src, before, after, shape, out + "/quantized", false, src.phys.quantization());
      l.define(n, out, Value.dequantized(out, padded.asUint8(src.uint8)));
      return;
    }
    if (x.dtype != DType.FLOAT32) throw l.error(n, "pads the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles Pad on float32 and int8 codes");
    l.define(n, out, emit(l, x, before, after, shape, out, true, Quantization.NONE));
  }

  /**
   * The input index output position {@code i} of a padded axis copies in mode reflect (the border not repeated), edge (the
   * border repeated) or wrap (the other end), as ONNX defines them; -1 if the mode cannot reach that far.
   */
  static int source(String mode, int i, int before, int size) {
    int j = i - before;
    if (j >= 0 && j < size) return j;
    switch (mode) {
      case "edge":
        return j < 0 ? 0 : size - 1;
      case "wrap":
        return Math.floorMod(j, size);
      default: { // reflect
        if (size == 1) return -1;
        int period = 2 * (size - 1);
        int m = Math.floorMod(j, period);
        int k = m < size ? m : period - m;
        // one reflection only, as onnxruntime takes it: a pad of at most size - 1 on each side
        return j < -(size - 1) || j > 2 * (size - 1) ? -1 : k;
      }
    }
  }

  /**
   * Pad in mode reflect, edge or wrap: every output element copies an input element, so one GATHER per padded axis (of the
   * value's stored layout) with the source indices; constants are padded at compile time.
   */
  private static void copyPad(GraphLowering l, Proto.Node n, Value x, String mode, int[] before, int[] after, int[] shape, String out)
      throws ModelFormatException {
    if (!mode.equals("reflect") && !mode.equals("edge") && !mode.equals("wrap")) {
      throw l.error(n, "pads in mode '" + mode + "'; ONNX's modes are constant, reflect, edge and wrap");
    }
    int r = shape.length;
    int[][] index = new int[r][];
    for (int d = 0; d < r; d++) {
      if (before[d] < 0 || after[d] < 0) {
        throw l.error(n, "has negative pads (cropping) in mode '" + mode + "'; Kiln crops in mode 'constant' only");
      }
      if (before[d] == 0 && after[d] == 0) continue;
      if (x.shape[d] == 0) throw l.error(n, "pads the empty axis " + d + " of " + GraphLowering.shape(x.shape) + " in mode '" + mode + "'");
      index[d] = new int[shape[d]];
      for (int i = 0; i < shape[d]; i++) {
        index[d][i] = source(mode, i, before[d], x.shape[d]);
        if (index[d][i] < 0) {
          throw l.error(n, "pads axis " + d + " of size " + x.shape[d] + " by " + before[d] + " / " + after[d] + " in mode 'reflect'; a"
              + " reflection reaches at most size - 1 = " + (x.shape[d] - 1) + " elements on each side");
        }
      }
    }
    if (x.isConstant()) {
      dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the padded constant", shape, x.constant.dtype().byteSize());
      Constant c = x.constant;
      for (int d = 0; d < r; d++) if (index[d] != null) c = gather(c, d, index[d]);
      l.define(n, out, Value.constant(out, c));
      return;
    }
    Value src = x.isDequantized() ? x.source : x;
    if (!x.isDequantized() && x.dtype != DType.FLOAT32 && x.dtype != DType.INT32 && x.dtype != DType.INT64) {
      throw l.error(n, "pads the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles Pad on float32, int32/int64 and int8 codes");
    }
    Value padded = gatherAxes(l, src, index, x.isDequantized() ? out + "/quantized" : out, !x.isDequantized());
    l.define(n, out, x.isDequantized() ? Value.dequantized(out, padded.asUint8(src.uint8)) : padded);
  }

  /**
   * {@code x} (computed) with each axis d whose {@code index[d]} is not null gathered at those input indices: one GATHER per
   * such axis, on the axis of the value's stored layout (no transpose). The last GATHER writes {@code name}.
   */
  static Value gatherAxes(GraphLowering l, Value x, int[][] index, String name, boolean onnxName) {
    GraphLowering.Stored stored = l.stored(x);
    TensorRef t = stored.tensor();
    int[] perm = stored.perm();
    int[] phys = t.shape().clone();
    int[] shape = x.shape.clone();
    int last = -1;
    for (int d = 0; d < index.length; d++) if (index[d] != null) last = d;
    for (int d = 0; d < index.length; d++) {
      if (index[d] == null) continue;
      int p = perm == null ? d : perm[d];
      long[] idx = new long[index[d].length];
      for (int i = 0; i < idx.length; i++) idx[i] = index[d][i];
      TensorRef ti = l.constantTensor(name + "/indices" + d, Constant.ofLongs(new int[] {idx.length}, DType.INT32, idx), Quantization.NONE);
      phys[p] = idx.length;
      shape[d] = idx.length;
      boolean done = d == last;
      TensorRef g = l.newTensor(done ? name : name + "/axis" + d, done && onnxName, phys.clone(), t.dtype(), t.quantization());
      l.op(OpType.GATHER, new Options.Gather(p, 0), g, t, ti);
      t = g;
    }
    return last < 0 ? x : Value.permuted(name, t, perm, shape);
  }

  /** {@code c} with axis {@code d} gathered at {@code index}. */
  private static Constant gather(Constant c, int d, int[] index) {
    int[] in = c.shape();
    int e = c.dtype().byteSize();
    int outer = 1;
    int inner = e;
    for (int i = 0; i < d; i++) outer *= in[i];
    for (int i = d + 1; i < in.length; i++) inner *= in[i];
    int[] shape = in.clone();
    shape[d] = index.length;
    byte[] data = new byte[outer * index.length * inner];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < index.length; i++) {
        System.arraycopy(c.bytes(), (o * in[d] + index[i]) * inner, data, (o * index.length + i) * inner, inner);
      }
    }
    return new Constant(shape, c.dtype(), data);
  }

  /** {@code x} (float32, computed) padded with zeros by a PAD in its own layout (onnx-ops2's pools). */
  static Value zeroPad(GraphLowering l, Value x, int[] before, int[] after, int[] shape, String name) {
    return emit(l, x, before, after, shape, name, false, Quantization.NONE);
  }

  private static Value emit(GraphLowering l, Value x, int[] before, int[] after, int[] shape, String name, boolean onnxName,
                            Quantization q) {
    GraphLowering.Stored stored = l.stored(x);
    TensorRef in = stored.tensor();
    int[] perm = stored.perm();
    int r = shape.length;
    int[] pb = new int[r];
    int[] pa = new int[r];
    int[] phys = in.shape().clone();
    for (int d = 0; d < r; d++) {
      int p = perm == null ? d : perm[d];
      pb[p] = before[d];
      pa[p] = after[d];
      phys[p] = shape[d];
    }
    TensorRef t = l.newTensor(name, onnxName, phys, in.dtype(), q);
    l.op(OpType.PAD, new Options.Pad(pb, pa), t, in);
    return Value.permuted(name, t, perm, shape);
  }

  /** {@code c} padded (or cropped, for negative pads) with {@code value}. */
  private static Constant foldPad(Constant c, int[] before, int[] shape, float value) {
    int r = shape.length;
    int[] in = c.shape();
    int e = c.dtype().byteSize();
    long count = dev.kiln.ir.Shape.elements(shape);
    byte[] fill = c.dtype() == DType.FLOAT32 ? Constant.ofFloats(new int[] {1}, new float[] {value}).bytes()
        : Constant.ofLongs(new int[] {1}, c.dtype(), new long[] {(long) value}).bytes();
    byte[] data = new byte[(int) (count * e)];
    int[] idx = new int[r];
    for (long k = 0; k < count; k++) {
      long src = 0;
      boolean inside = true;
      for (int d = 0; d < r; d++) {
        int j = idx[d] - before[d];
        inside &= j >= 0 && j < in[d];
        src = src * in[d] + j;
      }
      System.arraycopy(inside ? c.bytes() : fill, inside ? (int) (src * e) : 0, data, (int) (k * e), e);
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return new Constant(shape, c.dtype(), data);
  }
}
