package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Operators that only move or relabel data: Flatten, Reshape, Squeeze, Unsqueeze, Transpose and
 * Identity change a value's recorded shape and layout and emit nothing; Concat copies; Constant,
 * Shape, Gather and Cast produce compile-time constants.
 */
final class ShapeOps {
  private ShapeOps() {}

  static void identity(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.renamed(out));
  }

  /** Dropout at inference is the identity (its mask output must be unused; training_mode must be false). */
  static void dropout(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    Value training = l.optional(n, 2);
    if (training != null && (!training.isConstant() || training.constant.longs()[0] != 0)) {
      throw l.error(n, "runs in training mode (training_mode is " + (training.isConstant() ? "true" : "computed at run time")
          + "); Kiln compiles inference, where Dropout is the identity");
    }
    String mask = GraphLowering.output(n, 1);
    if (mask != null && l.isUsed(mask)) throw l.error(n, "uses its mask output, which inference does not compute");
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.renamed(out));
  }

  static void flatten(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    int r = x.rank();
    int axis = l.attrs(n).int32("axis", 1);
    if (axis < -r || axis > r) throw l.error(n, "axis " + axis + " is out of range for rank " + r + " (allowed -" + r + ".." + r + ")");
    if (axis < 0) axis += r;
    long outer = 1;
    for (int d = 0; d < axis; d++) outer *= x.shape[d];
    long inner = x.elements() / Math.max(1, outer);
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.reshaped(out, new int[] {(int) outer, (int) inner}));
  }

  static void reshape(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    Constant spec = l.constantInput(n, 1, "shape");
    boolean allowZero = l.opset >= 14 && l.attrs(n).i("allowzero", 0) != 0;
    long[] s = spec.longs();
    if (spec.rank() != 1) throw l.error(n, "its shape input has shape " + GraphLowering.shape(spec.shape()) + "; expected 1-D");
    int[] shape = new int[s.length];
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      long v = s[i];
      if (v == 0 && !allowZero) {
        if (i >= x.rank()) throw l.error(n, "its shape " + Arrays.toString(s) + " copies dimension " + i + " (0) of a rank-" + x.rank() + " input");
        v = x.shape[i];
      }
      if (v == -1) {
        if (infer >= 0) throw l.error(n, "its shape " + Arrays.toString(s) + " has more than one -1");
        infer = i;
        continue;
      }
      if (v < 0 || v > Integer.MAX_VALUE) throw l.error(n, "its shape " + Arrays.toString(s) + " has the invalid size " + v);
      shape[i] = (int) v;
      known *= v;
    }
    if (infer >= 0) {
      if (known == 0 || x.elements() % known != 0) {
        throw l.error(n, "cannot reshape " + GraphLowering.shape(x.shape) + " (" + x.elements() + " elements) to " + Arrays.toString(s));
      }
      shape[infer] = (int) (x.elements() / known);
    }
    if (Shape.elements(shape) != x.elements()) {
      throw l.error(n, "cannot reshape " + GraphLowering.shape(x.shape) + " (" + x.elements() + " elements) to "
          + GraphLowering.shape(shape) + " (" + Shape.elements(shape) + ")");
    }
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.reshaped(out, shape));
  }

  /** Squeeze/Unsqueeze axes: an attribute before opset 13, an optional constant input from 13. */
  private static int[] axes(GraphLowering l, Proto.Node n) throws ModelFormatException {
    if (l.opset < 13) return l.attrs(n).ints("axes");
    if (n.input(1) == null) return null;
    long[] v = l.constantInput(n, 1, "axes").longs();
    int[] a = new int[v.length];
    for (int i = 0; i < v.length; i++) a[i] = (int) v[i];
    return a;
  }

  static void squeeze(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    int[] axes = axes(l, n);
    int r = x.rank();
    boolean[] drop = new boolean[r];
    if (axes == null) {
      for (int d = 0; d < r; d++) drop[d] = x.shape[d] == 1;
    } else {
      for (int a : axes) {
        int d = a < 0 ? a + r : a;
        if (d < 0 || d >= r || x.shape[d] != 1) {
          throw l.error(n, "cannot squeeze axis " + a + " of shape " + GraphLowering.shape(x.shape));
        }
        drop[d] = true;
      }
    }
    List<Integer> s = new ArrayList<>();
    for (int d = 0; d < r; d++) if (!drop[d]) s.add(x.shape[d]);
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.reshaped(out, s.stream().mapToInt(Integer::intValue).toArray()));
  }

  static void unsqueeze(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    int[] axes = axes(l, n);
    if (axes == null) throw l.error(n, "has no axes");
    int r = x.rank() + axes.length;
    boolean[] added = new boolean[r];
    for (int a : axes) {
      int d = a < 0 ? a + r : a;
      if (d < 0 || d >= r || added[d]) throw l.error(n, "has the invalid or repeated axis " + a + " for an output of rank " + r);
      added[d] = true;
    }
    int[] shape = new int[r];
    for (int d = 0, k = 0; d < r; d++) shape[d] = added[d] ? 1 : x.shape[k++];
    String out = GraphLowering.output(n, 0);
    l.define(n, out, x.reshaped(out, shape));
  }

  static void transpose(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    int r = x.rank();
    int[] perm = l.attrs(n).ints("perm");
    if (perm == null) {
      perm = new int[r];
      for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
    }
    boolean[] seen = new boolean[r];
    boolean ok = perm.length == r;
    for (int p : perm) {
      ok &= p >= 0 && p < r && !seen[p];
      if (p >= 0 && p < r) seen[p] = true;
    }
    if (!ok) throw l.error(n, "has perm " + Arrays.toString(perm) + ", which is not a permutation of the " + r + " axes");
    String out = GraphLowering.output(n, 0);
    l.define(n, out, permute(l, x, perm, out));
  }

  /** {@code transpose(v, perm)} as a value: constants are permuted now, tensors only get a new layout. */
  static Value permute(GraphLowering l, Value v, int[] perm, String name) {
    if (v.isConstant()) return Value.constant(name, v.constant.transpose(perm));
    if (v.isDequantized()) return Value.dequantized(name, permute(l, v.source, perm, v.source.name + "/" + name));
    int[] shape = Value.permute(v.shape, perm);
    if (v.isPlainPermutation()) return Value.permuted(name, v.phys, Value.compose(v.perm, perm), shape).asUint8(v.uint8);
    TensorRef t = l.layout(v, null);
    return Value.permuted(name, t, perm, shape).asUint8(v.uint8);
  }

  // ---- Concat ---------------------------------------------------------------------------------

  static void concat(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Attrs at = l.attrs(n);
    if (!at.has("axis")) throw l.error(n, "has no axis attribute (required since opset 4)");
    List<Value> in = new ArrayList<>();
    for (int i = 0; i < n.inputs().size(); i++) if (n.input(i) != null) in.add(l.value(n, n.input(i)));
    if (in.isEmpty()) throw l.error(n, "has no inputs");
    int r = in.get(0).rank();
    int axis = at.int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    int[] shape = in.get(0).shape.clone();
    shape[axis] = 0;
    for (Value v : in) {
      boolean same = v.rank() == r;
      for (int d = 0; same && d < r; d++) same = d == axis || v.shape[d] == shape[d];
      if (!same) {
        throw l.error(n, "concatenates " + GraphLowering.shape(in.get(0).shape) + " with " + GraphLowering.shape(v.shape) + " ('"
            + v.name + "') along axis " + axis + "; all other dimensions must match");
      }
      shape[axis] += v.shape[axis];
    }
    String out = GraphLowering.output(n, 0);
    if (in.stream().allMatch(Value::isConstant)) {
      l.define(n, out, Value.constant(out, foldConcat(l, n, in, axis, shape)));
      return;
    }
    // integer codes when every input is the dequantized form of int8 codes with the same parameters
    boolean codes = in.stream().allMatch(Value::isDequantized)
        && in.stream().map(v -> v.source.phys.quantization()).distinct().count() == 1;
    List<Value> parts = new ArrayList<>();
    for (Value v : in) parts.add(codes ? v.source : l.floatValue(v));
    DType dtype = parts.get(0).dtype;
    for (Value v : parts) {
      if (v.dtype != dtype) throw l.error(n, "concatenates " + dtype + " with " + v.dtype + " ('" + v.name + "')");
    }
    int[] q = null;
    if (r == 4 && parts.stream().anyMatch(GraphLowering::isNhwc)) q = GraphLowering.NHWC;
    int physAxis = q == null ? axis : Value.inverse(q)[axis];
    List<TensorRef> ts = new ArrayList<>();
    for (Value v : parts) ts.add(l.layout(v, q));
    int[] phys = q == null ? shape : Value.permute(shape, q);
    Quantization quant = codes ? parts.get(0).phys.quantization() : Quantization.NONE;
    String name = codes ? out + "/quantized" : out;
    TensorRef t = l.newTensor(name, !codes, phys, dtype, quant);
    l.op(OpType.CONCATENATION, new Options.Concat(physAxis, dev.kiln.ir.Activation.NONE), t, ts.toArray(new TensorRef[0]));
    Value result = Value.permuted(name, t, q == null ? null : Value.inverse(q), shape);
    l.define(n, out, codes ? Value.dequantized(out, result.asUint8(parts.get(0).uint8)) : result);
  }

  private static Constant foldConcat(GraphLowering l, Proto.Node n, List<Value> in, int axis, int[] shape) throws ModelFormatException {
    DType dtype = in.get(0).constant.dtype();
    for (Value v : in) if (v.constant.dtype() != dtype) throw l.error(n, "concatenates constants of types " + dtype + " and " + v.constant.dtype());
    int e = dtype.byteSize();
    long outer = 1;
    for (int d = 0; d < axis; d++) outer *= shape[d];
    long innerOut = Shape.elements(shape) / Math.max(1, outer) * e;
    byte[] data = new byte[(int) (Shape.elements(shape) * e)];
    long offset = 0;
    for (Value v : in) {
      long part = v.constant.elements() / Math.max(1, outer) * e;
      for (long o = 0; o < outer; o++) {
        System.arraycopy(v.constant.bytes(), (int) (o * part), data, (int) (o * innerOut + offset), (int) part);
      }
      offset += part;
    }
    return new Constant(shape, dtype, data);
  }

  // ---- constants ------------------------------------------------------------------------------

  static void constant(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Attrs a = l.attrs(n);
    String out = GraphLowering.output(n, 0);
    Constant c;
    if (a.has("value")) {
      c = l.decode(a.tensor("value"));
    } else if (a.has("value_float")) {
      c = Constant.ofFloats(new int[0], new float[] {a.f("value_float", 0)});
    } else if (a.has("value_floats")) {
      float[] v = a.floats("value_floats");
      c = Constant.ofFloats(new int[] {v.length}, v);
    } else if (a.has("value_int")) {
      c = Constant.ofLongs(new int[0], DType.INT64, new long[] {a.i("value_int", 0)});
    } else if (a.has("value_ints")) {
      long[] v = a.longs("value_ints");
      c = Constant.ofLongs(new int[] {v.length}, DType.INT64, v);
    } else {
      String which = n.attributes().isEmpty() ? "no value attribute" : "the attribute '" + n.attributes().get(0).name() + "'";
      throw l.error(n, "has " + which + "; Kiln reads Constant's value, value_float(s) and value_int(s) (not sparse or string values)");
    }
    l.define(n, out, Value.constant(out, c));
  }

  static void shape(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    int r = x.rank();
    Attrs a = l.attrs(n);
    int start = (int) a.i("start", 0);
    int end = (int) a.i("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = Math.max(0, Math.min(r, start));
    end = Math.max(start, Math.min(r, end));
    long[] v = new long[end - start];
    for (int i = start; i < end; i++) v[i - start] = x.shape[i];
    String out = GraphLowering.output(n, 0);
    l.define(n, out, Value.constant(out, Constant.ofLongs(new int[] {v.length}, DType.INT64, v)));
  }

  /** Size: the element count of a statically shaped value, an int64 scalar known at compile time. */
  static void size(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "data");
    String out = GraphLowering.output(n, 0);
    l.define(n, out, Value.constant(out, Constant.ofLongs(new int[0], DType.INT64, new long[] {x.elements()})));
  }

  static void gather(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value data = l.input(n, 0, "data");
    Constant idx = l.constantInput(n, 1, "indices");
    if (!data.isConstant()) {
      throw l.error(n, "gathers from the computed tensor '" + data.name + "'; Kiln folds Gather on constants only (shape arithmetic)");
    }
    Constant d = data.constant;
    int r = d.rank();
    int axis = l.attrs(n).int32("axis", 0);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    int[] ds = d.shape();
    long[] ix = idx.longs();
    int[] is = idx.shape();
    int[] shape = new int[r - 1 + is.length];
    System.arraycopy(ds, 0, shape, 0, axis);
    System.arraycopy(is, 0, shape, axis, is.length);
    System.arraycopy(ds, axis + 1, shape, axis + is.length, r - axis - 1);
    long outer = 1;
    for (int k = 0; k < axis; k++) outer *= ds[k];
    long inner = 1;
    for (int k = axis + 1; k < r; k++) inner *= ds[k];
    int e = d.dtype().byteSize();
    byte[] out = new byte[(int) (Shape.elements(shape) * e)];
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (long i : ix) {
        long j = i < 0 ? i + ds[axis] : i;
        if (j < 0 || j >= ds[axis]) throw l.error(n, "has index " + i + " outside the axis of size " + ds[axis]);
        System.arraycopy(d.bytes(), (int) ((o * ds[axis] + j) * inner * e), out, pos, (int) (inner * e));
        pos += inner * e;
      }
    }
    String name = GraphLowering.output(n, 0);
    l.define(n, name, Value.constant(name, new Constant(shape, d.dtype(), out)));
  }

  static void cast(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    int to = l.attrs(n).int32("to", 0);
    DType type = TensorDecoder.dtype(to);
    String out = GraphLowering.output(n, 0);
    if (type == null) throw l.error(n, "casts to " + TensorDecoder.typeName(to) + ", which Kiln does not compile" + TensorDecoder.typeFix(to));
    if (!x.isConstant()) {
      if (x.dtype == type) {
        l.define(n, out, x.renamed(out));
        return;
      }
      throw l.error(n, "casts the computed tensor '" + x.name + "' from " + x.dtype + " to " + type
          + "; Kiln folds Cast on constants only");
    }
    Constant c = x.constant;
    Constant r = type == DType.FLOAT32 ? Constant.ofFloats(c.shape(), c.floats())
        : c.dtype() == DType.FLOAT32 ? Constant.ofLongs(c.shape(), type, c.longs())
        : Constant.ofLongs(c.shape(), type, c.longs());
    l.define(n, out, Value.constant(out, r));
  }
}
