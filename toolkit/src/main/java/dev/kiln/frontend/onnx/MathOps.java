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
 * Elementwise and row operators: Add, Sub, Mul, Div (numpy broadcasting, opset >= 7), Relu,
 * Sigmoid, Tanh, Clip, Softmax. They run in whatever layout their inputs already have (NHWC after
 * a convolution), so no transpose is needed around them.
 */
final class MathOps {
  private MathOps() {}

  // ---- binary ---------------------------------------------------------------------------------

  static void binary(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value a = l.input(n, 0, "first input");
    Value b = l.input(n, 1, "second input");
    String out = GraphLowering.output(n, 0);
    String op = n.opType();
    if (l.attrs(n).has("broadcast") || l.attrs(n).has("axis")) {
      throw l.error(n, "uses the legacy 'broadcast'/'axis' attributes of opset < 7; re-export the model with opset 11 or newer");
    }
    if (a.isConstant() && b.isConstant()) {
      l.define(n, out, Value.constant(out, fold(l, n, a.constant, b.constant)));
      return;
    }
    if (EltwiseOps.isInteger(a.dtype) || EltwiseOps.isInteger(b.dtype)) {
      // ONNX integer arithmetic wraps around (and Div truncates): INT_ARITH, never a float reciprocal
      Options.IntArith.Kind kind = switch (op) {
        case "Add" -> Options.IntArith.Kind.ADD;
        case "Sub" -> Options.IntArith.Kind.SUB;
        case "Mul" -> Options.IntArith.Kind.MUL;
        default -> Options.IntArith.Kind.DIV;
      };
      l.define(n, out, EltwiseOps.intArith(l, n, kind, l.floatValue(a), l.floatValue(b), out, true));
      return;
    }
    OpType type;
    switch (op) {
      case "Add" -> type = OpType.ADD;
      case "Sub" -> type = OpType.SUB;
      case "Mul" -> type = OpType.MUL;
      default -> {
        // Div: only by a constant, as a multiplication by its reciprocal
        if (!b.isConstant()) {
          throw l.error(n, "divides by the computed tensor '" + b.name + "'; Kiln compiles Div only by a constant");
        }
        float[] v = b.constant.floats();
        for (int i = 0; i < v.length; i++) v[i] = 1f / v[i];
        b = Value.constant(b.name + "/reciprocal", Constant.ofFloats(b.constant.shape(), v));
        type = OpType.MUL;
      }
    }
    if (!op.equals("Div") && QLinearOps.binary(l, n, type, a, b)) return;
    a = l.floatValue(a);
    b = l.floatValue(b);
    for (Value v : new Value[] {a, b}) {
      if (v.dtype != DType.FLOAT32) {
        throw l.error(n, "computes on the " + v.dtype + " tensor '" + v.name + "'; Kiln compiles " + op + " on float32 at"
            + " run time (integer arithmetic only on constants)");
      }
    }
    GraphLowering.Epilogue e = l.epilogue(out, 0);
    l.take(e.nodes());
    Value result = emitBinary(l, n, type, a, b, e.beforeQuantize(), e.activation());
    l.define(n, e.beforeQuantize(), result);
  }

  /**
   * {@code out = act(a op b)} with numpy broadcasting, in NHWC when the result is 4-D and an input is
   * NHWC, in the inputs' common layout when they share one, else in logical order.
   */
  static Value emitBinary(GraphLowering l, Proto.Node n, OpType type, Value a, Value b, String out, Activation act)
      throws ModelFormatException {
    int[] shape = broadcast(a.shape, b.shape);
    if (shape == null) {
      throw l.error(n, "cannot broadcast the shapes " + GraphLowering.shape(a.shape) + " ('" + a.name + "') and "
          + GraphLowering.shape(b.shape) + " ('" + b.name + "') (numpy rules: trailing dimensions equal or 1)");
    }
    int r = shape.length;
    int[] q = null;
    if (r == 4 && (GraphLowering.isNhwc(a) || GraphLowering.isNhwc(b))) {
      q = GraphLowering.NHWC;
    } else if (!a.isConstant() && !b.isConstant() && a.perm != null && Arrays.equals(a.perm, b.perm)
        && a.isPlainPermutation() && b.isPlainPermutation() && Arrays.equals(a.shape, b.shape)) {
      q = Value.inverse(a.perm);
    }
    TensorRef ta = l.layout(expand(a, r), q);
    TensorRef tb = l.layout(expand(b, r), q);
    int[] phys = q == null ? shape : Value.permute(shape, q);
    TensorRef t = l.newTensor(out, true, phys, DType.FLOAT32, Quantization.NONE);
    l.op(type, new Options.Elementwise(act), t, ta, tb);
    return Value.permuted(out, t, q == null ? null : Value.inverse(q), shape);
  }

  /** {@code v} with leading 1s up to rank {@code r} (a free reshape). */
  static Value expand(Value v, int r) {
    if (v.rank() == r) return v;
    int[] s = new int[r];
    Arrays.fill(s, 1);
    System.arraycopy(v.shape, 0, s, r - v.rank(), v.rank());
    return v.reshaped(v.name, s);
  }

  /** numpy broadcasting of two shapes, or null. */
  static int[] broadcast(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) return null;
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** Constant folding of Add/Sub/Mul/Div with broadcasting: float if either is float, else int64 arithmetic. */
  static Constant fold(GraphLowering l, Proto.Node n, Constant a, Constant b) throws ModelFormatException {
    int[] shape = broadcast(a.shape(), b.shape());
    if (shape == null) {
      throw l.error(n, "cannot broadcast the constant shapes " + GraphLowering.shape(a.shape()) + " and " + GraphLowering.shape(b.shape()));
    }
    dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the folded constant", shape, 8);
    int count = (int) dev.kiln.ir.Shape.elements(shape);
    int[] ia = indexMap(a.shape(), shape);
    int[] ib = indexMap(b.shape(), shape);
    String op = n.opType();
    if (a.dtype() == DType.FLOAT32 || b.dtype() == DType.FLOAT32) {
      float[] x = a.floats();
      float[] y = b.floats();
      float[] z = new float[count];
      for (int i = 0; i < count; i++) {
        float u = x[ia[i]];
        float v = y[ib[i]];
        z[i] = switch (op) {
          case "Add" -> u + v;
          case "Sub" -> u - v;
          case "Mul" -> u * v;
          default -> u / v;
        };
      }
      return Constant.ofFloats(shape, z);
    }
    long[] x = a.longs();
    long[] y = b.longs();
    long[] z = new long[count];
    for (int i = 0; i < count; i++) {
      long u = x[ia[i]];
      long v = y[ib[i]];
      if (op.equals("Div") && v == 0) throw l.error(n, "divides the constant " + u + " by 0");
      z[i] = switch (op) {
        case "Add" -> u + v;
        case "Sub" -> u - v;
        case "Mul" -> u * v;
        default -> u / v;
      };
    }
    return Constant.ofLongs(shape, a.dtype() == DType.BOOL ? DType.INT64 : a.dtype(), z);
  }

  /** For each element of {@code out}, the index of the element of a tensor of shape {@code in} broadcast to it. */
  static int[] indexMap(int[] in, int[] out) {
    int r = out.length;
    int count = (int) dev.kiln.ir.Shape.elements(out);
    int[] map = new int[count];
    int[] stride = new int[r];
    int s = 1;
    for (int d = r - 1; d >= 0; d--) {
      int k = d - (r - in.length);
      int size = k >= 0 ? in[k] : 1;
      stride[d] = size == 1 ? 0 : s;
      s *= size;
    }
    int[] idx = new int[r];
    for (int i = 0; i < count; i++) {
      int src = 0;
      for (int d = 0; d < r; d++) src += idx[d] * stride[d];
      map[i] = src;
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < out[d]) break;
        idx[d] = 0;
      }
    }
    return map;
  }

  // ---- unary ----------------------------------------------------------------------------------

  /** Clip's bounds {min, max} (infinite when absent), or null if {@code lenient} and a bound is computed at run time. */
  static float[] clipBounds(GraphLowering l, Proto.Node n, boolean strict) throws ModelFormatException {
    float lo = Float.NEGATIVE_INFINITY;
    float hi = Float.POSITIVE_INFINITY;
    if (l.opset < 11) {
      Attrs a = l.attrs(n);
      lo = a.f("min", -Float.MAX_VALUE);
      hi = a.f("max", Float.MAX_VALUE);
      if (lo == -Float.MAX_VALUE) lo = Float.NEGATIVE_INFINITY;
      if (hi == Float.MAX_VALUE) hi = Float.POSITIVE_INFINITY;
      return new float[] {lo, hi};
    }
    for (int i = 1; i <= 2; i++) {
      Value v = l.optional(n, i);
      if (v == null) continue;
      if (!v.isConstant()) {
        if (!strict) return null;
        throw l.error(n, "its " + (i == 1 ? "min" : "max") + " bound '" + v.name + "' is computed at run time; Kiln needs"
            + " constant bounds (run-time bounds need MAXIMUM/MINIMUM kernels)" + l.constantHint(v));
      }
      if (v.constant.elements() != 1) {
        throw l.error(n, "its " + (i == 1 ? "min" : "max") + " bound has shape " + GraphLowering.shape(v.shape)
            + "; Clip bounds are scalars");
      }
      float f = v.constant.floats()[0];
      if (i == 1) lo = f;
      else hi = f;
    }
    return new float[] {lo, hi};
  }

  static void unary(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    String out = GraphLowering.output(n, 0);
    String op = n.opType();
    float[] bounds = op.equals("Clip") ? clipBounds(l, n, true) : op.equals("Relu") ? new float[] {0f, Float.POSITIVE_INFINITY} : null;
    if (x.isConstant()) {
      float[] v = x.constant.floats();
      if (x.constant.dtype() != DType.FLOAT32) throw l.error(n, "computes on an " + x.constant.dtype() + " constant; Kiln folds float32 only");
      for (int i = 0; i < v.length; i++) {
        v[i] = switch (op) {
          case "Sigmoid" -> (float) (1 / (1 + Math.exp(-v[i])));
          case "Tanh" -> (float) Math.tanh(v[i]);
          default -> Math.min(Math.max(v[i], bounds[0]), bounds[1]);
        };
      }
      l.define(n, out, Value.constant(out, Constant.ofFloats(x.shape, v)));
      return;
    }
    if (bounds != null && x.isDequantized()) {
      // Relu or Clip of dequantized codes: a table from codes to codes, computed like the float graph
      // (dequantize, clamp, quantize half to even); straight to the next QuantizeLinear's codes when
      // that is the only reader, so the bounds are not first rounded to the input's grid
      Value src = x.source;
      Proto.Node next = l.soleConsumer(out);
      boolean fuse = next != null && next.opType().equals("QuantizeLinear") && out.equals(next.input(0))
          && Operators.isPerTensorQuantize(l, next);
      QuantOps.Params p = fuse ? QuantOps.params(l, next, false) : null;
      String name = fuse ? GraphLowering.output(next, 0) : out + "/quantized";
      Quantization q = fuse ? p.int8Quantization() : src.phys.quantization();
      TensorRef t = l.newTensor(name, fuse, src.phys.shape(), DType.INT8, q);
      l.op(OpType.CLAMP, new Options.Clamp(bounds[0], bounds[1]), t, src.phys);
      Value codes = Value.permuted(t.name(), t, src.perm, src.shape);
      if (fuse) {
        l.take(java.util.List.of(next));
        l.define(n, name, codes.asUint8(p.type() == DType.UINT8));
      } else {
        l.define(n, out, Value.dequantized(out, codes.asUint8(src.uint8)));
      }
      return;
    }
    x = l.floatValue(x);
    if (x.dtype != DType.FLOAT32) {
      throw l.error(n, "computes on the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles " + op + " on float32");
    }
    OpType type;
    Options options = new Options.None();
    if (op.equals("Sigmoid")) {
      type = OpType.LOGISTIC;
    } else if (op.equals("Tanh")) {
      type = OpType.TANH;
    } else if (bounds[0] == 0f && bounds[1] == Float.POSITIVE_INFINITY) {
      type = OpType.RELU;
    } else if (bounds[0] == 0f && bounds[1] == 6f) {
      type = OpType.RELU6;
    } else {
      type = OpType.CLAMP;
      options = new Options.Clamp(bounds[0], bounds[1]);
    }
    TensorRef t = l.newTensor(out, true, x.phys.shape(), DType.FLOAT32, Quantization.NONE);
    l.op(type, options, t, x.phys);
    l.define(n, out, Value.permuted(out, t, x.perm, x.shape));
  }

  // ---- softmax --------------------------------------------------------------------------------

  /**
   * Softmax. Opset >= 13: along one axis; the op runs where that axis is innermost in the bytes
   * (the channels of an NHWC tensor are), else the value is transposed so it is. Opset < 13: the
   * input is coerced to 2-D at {@code axis} and softmax runs over the whole tail, which is a
   * contiguous run of bytes whenever the leading axes stay leading.
   */
  static void softmax(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value raw = l.input(n, 0, "input");
    String out = GraphLowering.output(n, 0);
    if (raw.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold Softmax");
    int r = raw.rank();
    if (r == 0) throw l.error(n, "has a scalar input; Softmax needs at least one dimension");
    int axis = l.attrs(n).int32("axis", l.opset >= 13 ? -1 : 1);
    if (axis < -r || axis >= r) throw l.error(n, "axis " + axis + " is out of range for rank " + r);
    if (axis < 0) axis += r;
    QLinearOps.Group group = QLinearOps.unaryGroup(l, n, raw);
    if (group != null) {
      // onnxruntime's QLinearSoftmax on the codes (the same in either domain: its int8 output saturates at 127)
      String name = group.output();
      Options options = new Options.QLinearSoftmax(group.uint8Domain());
      Value y = emitSoftmax(l, raw.source, axis, name, DType.INT8, group.quantization(), options);
      group.take(l);
      l.define(n, name, y.asUint8(group.uint8Type()));
      return;
    }
    Value x = l.floatValue(raw);
    if (x.dtype != DType.FLOAT32) throw l.error(n, "computes on " + x.dtype + "; Kiln compiles Softmax on float32");
    l.define(n, out, emitSoftmax(l, x, axis, out, DType.FLOAT32, Quantization.NONE, new Options.Softmax(1f)));
  }

  /** SOFTMAX of {@code x} along {@code axis} (see {@link #softmax}) into a tensor named {@code out}. */
  private static Value emitSoftmax(GraphLowering l, Value x, int axis, String out, DType dtype, Quantization q, Options options) {
    int r = x.rank();
    if (l.opset >= 13) {
      int[] p = x.perm;
      if (x.isPlainPermutation() && (p == null ? axis == r - 1 : p[axis] == r - 1)) {
        TensorRef t = l.newTensor(out, true, x.phys.shape(), dtype, q);
        l.op(OpType.SOFTMAX, options, t, x.phys);
        return Value.permuted(out, t, x.perm, x.shape);
      }
      int[] order = new int[r]; // the axis last, the others in order
      for (int i = 0, k = 0; i < r; i++) if (i != axis) order[k++] = i;
      order[r - 1] = axis;
      TensorRef in = l.layout(x, order);
      TensorRef t = l.newTensor(out, true, in.shape(), dtype, q);
      l.op(OpType.SOFTMAX, options, t, in);
      return Value.permuted(out, t, Value.inverse(order), x.shape);
    }
    long outer = 1;
    for (int d = 0; d < axis; d++) outer *= x.shape[d];
    int inner = (int) (x.elements() / Math.max(1, outer));
    int[] flat = {(int) outer, inner};
    TensorRef src;
    int[] perm = null;
    int[] physShape;
    if (x.isPlainPermutation() && leadingStay(x.perm, axis)) {
      src = x.phys;
      perm = x.perm;
      physShape = x.phys.shape();
    } else {
      src = l.layout(x, null);
      physShape = x.shape;
    }
    TensorRef in2 = l.reshape(src, flat, out + "/2d", false, src.quantization());
    TensorRef sm = l.newTensor(out + "/softmax", false, flat, dtype, q);
    l.op(OpType.SOFTMAX, options, sm, in2);
    TensorRef t = l.reshape(sm, physShape, out, true, q);
    return Value.permuted(out, t, perm, x.shape);
  }

  /** True if the first {@code axis} entries of {@code perm} are the axes 0..axis-1 (in any order). */
  private static boolean leadingStay(int[] perm, int axis) {
    if (perm == null) return true;
    boolean[] seen = new boolean[perm.length];
    for (int i = 0; i < axis; i++) {
      if (perm[i] >= axis) return false;
      seen[perm[i]] = true;
    }
    return true;
  }
}
