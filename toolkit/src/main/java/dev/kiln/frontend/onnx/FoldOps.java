package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import java.util.Arrays;

/**
 * Operators Kiln evaluates at compile time only: ConstantOfShape, Range and Slice. With static
 * shapes the shape arithmetic exporters write (Shape -> Gather -> Unsqueeze -> Concat ->
 * ConstantOfShape / Range / Slice -> Reshape) is all constants, so it is computed here in Java and
 * never reaches the device. On a tensor computed at run time they are refused, naming the kernel
 * that would be needed.
 */
final class FoldOps {
  private FoldOps() {}

  static void constantOfShape(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Constant spec = l.constantInput(n, 0, "shape");
    long[] s = spec.longs();
    int[] shape = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      if (s[i] < 0 || s[i] > Integer.MAX_VALUE) throw l.error(n, "has the invalid size " + s[i] + " in its shape " + Arrays.toString(s));
      shape[i] = (int) s[i];
    }
    Proto.TensorData t = l.attrs(n).tensor("value");
    Constant value = t == null ? Constant.ofFloats(new int[] {1}, new float[] {0f}) : l.decode(t);
    if (value.elements() != 1) throw l.error(n, "has a value of " + value.elements() + " elements; ConstantOfShape's value is one element");
    int e = value.dtype().byteSize();
    dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the constant", shape, e);
    long count = Shape.elements(shape);
    byte[] data = new byte[(int) (count * e)];
    for (long i = 0; i < count; i++) System.arraycopy(value.bytes(), 0, data, (int) (i * e), e);
    String out = GraphLowering.output(n, 0);
    l.define(n, out, Value.constant(out, new Constant(shape, value.dtype(), data)));
  }

  /**
   * ScatterND of constants (a Swin Transformer's attention mask, built by slice assignment into a ConstantOfShape):
   * {@code data} with the slices {@code indices} names replaced by, or combined (reduction add/mul/max/min) with,
   * {@code updates}, in the order given; negative indices count from the end, as onnxruntime takes them.
   */
  static void scatterNd(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Constant data = l.constantInput(n, 0, "data");
    Constant indices = l.constantInput(n, 1, "indices");
    Constant updates = l.constantInput(n, 2, "updates");
    String reduction = l.attrs(n).s("reduction", "none");
    int[] ds = data.shape();
    int[] is = indices.shape();
    if (is.length == 0) throw l.error(n, "has scalar indices; ScatterND's indices have rank >= 1");
    int k = is[is.length - 1];
    if (k > ds.length) throw l.error(n, "indexes " + k + " axes of the rank-" + ds.length + " data");
    int[] want = new int[is.length - 1 + ds.length - k];
    System.arraycopy(is, 0, want, 0, is.length - 1);
    System.arraycopy(ds, k, want, is.length - 1, ds.length - k);
    if (!Arrays.equals(updates.shape(), want)) {
      throw l.error(n, "has updates of shape " + GraphLowering.shape(updates.shape()) + "; indices " + GraphLowering.shape(is) + " on data "
          + GraphLowering.shape(ds) + " need " + GraphLowering.shape(want));
    }
    if (updates.dtype() != data.dtype()) throw l.error(n, "scatters " + updates.dtype() + " updates into " + data.dtype() + " data");
    if (!reduction.equals("none") && !reduction.equals("add") && !reduction.equals("mul") && !reduction.equals("max")
        && !reduction.equals("min")) {
      throw l.error(n, "has reduction '" + reduction + "'; ONNX's are none, add, mul, max and min");
    }
    int slice = 1;
    for (int d = k; d < ds.length; d++) slice *= ds[d];
    int lines = (int) (indices.elements() / Math.max(1, k));
    if (k == 0) lines = (int) Shape.elements(Arrays.copyOf(is, is.length - 1));
    long[] idx = indices.longs();
    boolean floats = data.dtype() == DType.FLOAT32;
    float[] fd = floats ? data.floats() : null;
    long[] ld = floats ? null : data.longs();
    float[] fu = floats ? updates.floats() : null;
    long[] lu = floats ? null : updates.longs();
    for (int j = 0; j < lines; j++) {
      long offset = 0;
      for (int a = 0; a < k; a++) {
        long v = idx[j * k + a];
        if (v < -ds[a] || v >= ds[a]) throw l.error(n, "has index " + v + " for axis " + a + " of size " + ds[a]);
        offset = offset * ds[a] + (v < 0 ? v + ds[a] : v);
      }
      for (int e = 0; e < slice; e++) {
        int at = (int) (offset * slice + e);
        int from = j * slice + e;
        if (floats) {
          fd[at] = switch (reduction) {
            case "add" -> fd[at] + fu[from];
            case "mul" -> fd[at] * fu[from];
            case "max" -> Math.max(fd[at], fu[from]);
            case "min" -> Math.min(fd[at], fu[from]);
            default -> fu[from];
          };
        } else {
          ld[at] = switch (reduction) {
            case "add" -> ld[at] + lu[from];
            case "mul" -> ld[at] * lu[from];
            case "max" -> Math.max(ld[at], lu[from]);
            case "min" -> Math.min(ld[at], lu[from]);
            default -> lu[from];
          };
        }
      }
    }
    String out = GraphLowering.output(n, 0);
    l.define(n, out, Value.constant(out, floats ? Constant.ofFloats(ds, fd) : Constant.ofLongs(ds, data.dtype(), ld)));
  }

  static void range(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Constant start = l.constantInput(n, 0, "start");
    Constant limit = l.constantInput(n, 1, "limit");
    Constant delta = l.constantInput(n, 2, "delta");
    for (Constant c : new Constant[] {start, limit, delta}) {
      if (c.elements() != 1) throw l.error(n, "has an input of shape " + GraphLowering.shape(c.shape()) + "; Range takes scalars");
    }
    DType type = start.dtype();
    String out = GraphLowering.output(n, 0);
    if (type == DType.FLOAT32) {
      float a = start.floats()[0];
      float b = limit.floats()[0];
      float d = delta.floats()[0];
      if (d == 0) throw l.error(n, "has delta 0");
      int count = (int) Math.max(Math.ceil((b - a) / d), 0);
      float[] v = new float[count];
      for (int i = 0; i < count; i++) v[i] = a + i * d;
      l.define(n, out, Value.constant(out, Constant.ofFloats(new int[] {count}, v)));
      return;
    }
    long a = start.longs()[0];
    long b = limit.longs()[0];
    long d = delta.longs()[0];
    if (d == 0) throw l.error(n, "has delta 0");
    long count = Math.max(Math.floorDiv(b - a + d + (d > 0 ? -1 : 1), d), 0);
    if (count > 1 << 24) throw l.error(n, "would make " + count + " values");
    long[] v = new long[(int) count];
    for (int i = 0; i < count; i++) v[i] = a + i * d;
    l.define(n, out, Value.constant(out, Constant.ofLongs(new int[] {(int) count}, type, v)));
  }

  /** Slice: attributes starts/ends/axes before opset 10, inputs starts, ends, axes, steps from 10. */
  static void slice(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    long[] starts;
    long[] ends;
    long[] axes = null;
    long[] steps = null;
    if (l.opset < 10) {
      Attrs a = l.attrs(n);
      starts = a.longs("starts");
      ends = a.longs("ends");
      axes = a.longs("axes");
      if (starts == null || ends == null) throw l.error(n, "has no starts/ends attributes");
    } else {
      starts = l.constantInput(n, 1, "starts").longs();
      ends = l.constantInput(n, 2, "ends").longs();
      if (n.input(3) != null) axes = l.constantInput(n, 3, "axes").longs();
      if (n.input(4) != null) steps = l.constantInput(n, 4, "steps").longs();
    }
    int r = x.rank();
    if (ends.length != starts.length || axes != null && axes.length != starts.length || steps != null && steps.length != starts.length) {
      throw l.error(n, "has starts " + Arrays.toString(starts) + ", ends " + Arrays.toString(ends) + ", axes "
          + Arrays.toString(axes) + " and steps " + Arrays.toString(steps) + " of different lengths");
    }
    int[] begin = new int[r];
    int[] step = new int[r];
    int[] shape = x.shape.clone();
    Arrays.fill(step, 1);
    boolean[] seen = new boolean[r];
    for (int k = 0; k < starts.length; k++) {
      long axis = axes == null ? k : axes[k];
      if (axis < -r || axis >= r) throw l.error(n, "has axis " + axis + " for a rank-" + r + " input");
      int d = (int) (axis < 0 ? axis + r : axis);
      if (seen[d]) throw l.error(n, "slices axis " + d + " twice");
      seen[d] = true;
      long dim = x.shape[d];
      long st = steps == null ? 1 : steps[k];
      if (st == 0) throw l.error(n, "has step 0 on axis " + d);
      long s = starts[k] < 0 ? starts[k] + dim : starts[k];
      long e = ends[k] < 0 ? ends[k] + dim : ends[k];
      if (st > 0) {
        s = Math.max(0, Math.min(dim, s));
        e = Math.max(0, Math.min(dim, e));
      } else {
        s = Math.max(-1, Math.min(dim - 1, s));
        e = Math.max(-1, Math.min(dim - 1, e));
      }
      long size = st > 0 ? Math.max(0, (e - s + st - 1) / st) : Math.max(0, (s - e + (-st) - 1) / (-st));
      begin[d] = (int) s;
      step[d] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, st));
      shape[d] = (int) size;
    }
    String out = GraphLowering.output(n, 0);
    if (Arrays.equals(shape, x.shape) && Arrays.stream(step).allMatch(v -> v == 1)) {
      l.define(n, out, x.renamed(out)); // slices nothing off: the identity
      return;
    }
    if (!x.isConstant()) {
      l.define(n, out, AxisOps.stridedSlice(l, n, x, begin, step, shape, out, true));
      return;
    }
    l.define(n, out, Value.constant(out, strided(x.constant, begin, step, shape)));
  }

  /** {@code c[begin[0]::step[0], ...]} with {@code shape} elements per axis. */
  static Constant strided(Constant c, int[] begin, int[] step, int[] shape) {
    int r = shape.length;
    int[] in = c.shape();
    long[] stride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      stride[d] = s;
      s *= in[d];
    }
    int e = c.dtype().byteSize();
    long count = Shape.elements(shape);
    byte[] data = new byte[(int) (count * e)];
    int[] idx = new int[r];
    for (long k = 0; k < count; k++) {
      long src = 0;
      for (int d = 0; d < r; d++) src += (begin[d] + (long) idx[d] * step[d]) * stride[d];
      System.arraycopy(c.bytes(), (int) (src * e), data, (int) (k * e), e);
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return new Constant(shape, c.dtype(), data);
  }
}
