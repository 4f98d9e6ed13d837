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
 * (int8 codes: the real value 0, so a DequantizeLinear -> Pad(0) pads the codes and stays exact).
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
      throw l.error(n, "pads in mode '" + mode + "'; Kiln compiles mode 'constant' (reflect needs a MIRROR_PAD kernel, edge and wrap"
          + " have none yet)");
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
      throw l.error(n, "pads with the value " + value + "; Kiln's PAD kernel pads with 0 (the zero point for int8)");
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
