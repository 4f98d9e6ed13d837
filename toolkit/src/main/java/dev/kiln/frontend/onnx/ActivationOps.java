package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.List;

/**
 * Elementwise forms exporters emit that need more than one TFLite kernel or none (issue 9 item 5,
 * onnx-more): Erf (Kiln's ERF kernel; torch's exact GELU before opset 20 is Div, Erf, Add, Mul, Mul),
 * Elu with any alpha, and CastLike.
 */
final class ActivationOps {
  private ActivationOps() {}

  static void erf(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold Erf");
    Value xf = l.floatValue(x);
    NnOps.requireFloat(l, n, xf);
    String out = GraphLowering.output(n, 0);
    l.define(n, out, EltwiseOps.emit(l, n, OpType.ERF, new Options.None(), DType.FLOAT32, out, true, xf));
  }

  /** Elu with alpha != 1: {@code max(x, 0) + alpha * min(elu(x), 0)} (ELU, MINIMUM, MUL, RELU, ADD). */
  static void eluAlpha(GraphLowering l, Proto.Node n, Value x, float alpha) throws ModelFormatException {
    NnOps.requireFloat(l, n, x);
    String out = GraphLowering.output(n, 0);
    Options none = new Options.Elementwise(Activation.NONE);
    Value zero = Value.constant(out + "/zero", Constant.ofFloats(new int[0], new float[] {0f}));
    Value a = Value.constant(out + "/alpha", Constant.ofFloats(new int[0], new float[] {alpha}));
    Value elu = EltwiseOps.emit(l, n, OpType.ELU, new Options.None(), DType.FLOAT32, out + "/elu", false, x);
    Value neg = EltwiseOps.emit(l, n, OpType.MINIMUM, new Options.None(), DType.FLOAT32, out + "/negative", false, elu, zero);
    Value scaled = EltwiseOps.emit(l, n, OpType.MUL, none, DType.FLOAT32, out + "/alpha_negative", false, neg, a);
    Value pos = EltwiseOps.emit(l, n, OpType.RELU, new Options.None(), DType.FLOAT32, out + "/positive", false, x);
    l.define(n, out, EltwiseOps.emit(l, n, OpType.ADD, none, DType.FLOAT32, out, true, pos, scaled));
  }

  /** Pow of a float32 constant by a constant exponent (any numeric type), with broadcasting; powf's float result. */
  static Constant foldPow(GraphLowering l, Proto.Node n, Constant base, Constant exponent) throws ModelFormatException {
    int[] shape = MathOps.broadcast(base.shape(), exponent.shape());
    if (shape == null) {
      throw l.error(n, "cannot broadcast the constant shapes " + GraphLowering.shape(base.shape()) + " and "
          + GraphLowering.shape(exponent.shape()));
    }
    dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the folded constant", shape, 4);
    int[] ia = MathOps.indexMap(base.shape(), shape);
    int[] ib = MathOps.indexMap(exponent.shape(), shape);
    float[] x = base.floats();
    double[] e = new double[(int) exponent.elements()];
    if (exponent.dtype() == DType.FLOAT32) {
      float[] f = exponent.floats();
      for (int i = 0; i < e.length; i++) e[i] = f[i];
    } else {
      long[] v = exponent.longs();
      for (int i = 0; i < e.length; i++) e[i] = v[i];
    }
    float[] z = new float[ia.length];
    for (int i = 0; i < z.length; i++) z[i] = (float) Math.pow(x[ia[i]], e[ib[i]]);
    return Constant.ofFloats(shape, z);
  }

  /**
   * Sqrt, Abs, Neg, Floor, Ceil of a constant (function bodies compute epsilons and sqrt(2) this way), in the constant's
   * type; these are exact in float32 (sqrt correctly rounded), so the fold equals what a kernel would compute. Null for
   * any other operator or type.
   */
  static Constant foldExact(String op, Constant c) {
    if (op.equals("Not") && c.dtype() == DType.BOOL) {
      // a constant mask inverted (a Swin Transformer's shifted-window attention mask)
      long[] v = c.longs();
      for (int i = 0; i < v.length; i++) v[i] = v[i] == 0 ? 1 : 0;
      return Constant.ofLongs(c.shape(), DType.BOOL, v);
    }
    if (!List.of("Sqrt", "Abs", "Neg", "Floor", "Ceil").contains(op)) return null;
    if (c.dtype() == DType.FLOAT32) {
      float[] v = c.floats();
      for (int i = 0; i < v.length; i++) {
        v[i] = switch (op) {
          case "Sqrt" -> (float) Math.sqrt(v[i]);
          case "Abs" -> Math.abs(v[i]);
          case "Neg" -> -v[i];
          case "Floor" -> (float) Math.floor(v[i]);
          case "Ceil" -> (float) Math.ceil(v[i]);
          default -> Float.NaN;
        };
      }
      return Constant.ofFloats(c.shape(), v);
    }
    if ((c.dtype() == DType.INT64 || c.dtype() == DType.INT32) && (op.equals("Neg") || op.equals("Abs"))) {
      long[] v = c.longs();
      for (int i = 0; i < v.length; i++) v[i] = op.equals("Neg") ? -v[i] : Math.abs(v[i]);
      return Constant.ofLongs(c.shape(), c.dtype(), v);
    }
    return null;
  }

  /** Softplus {@code log(1 + exp(x))}, computed as {@code relu(x) + log(1 + exp(-|x|))} so exp never overflows. */
  static void softplus(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "X");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold Softplus");
    Value xf = l.floatValue(x);
    NnOps.requireFloat(l, n, xf);
    String out = GraphLowering.output(n, 0);
    Options none = new Options.None();
    Value one = Value.constant(out + "/one", Constant.ofFloats(new int[0], new float[] {1f}));
    Value abs = EltwiseOps.emit(l, n, OpType.ABS, none, DType.FLOAT32, out + "/abs", false, xf);
    Value neg = EltwiseOps.emit(l, n, OpType.NEG, none, DType.FLOAT32, out + "/neg_abs", false, abs);
    Value e = EltwiseOps.emit(l, n, OpType.EXP, none, DType.FLOAT32, out + "/exp", false, neg);
    Value sum = EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.FLOAT32, out + "/one_plus", false, e, one);
    Value lg = EltwiseOps.emit(l, n, OpType.LOG, none, DType.FLOAT32, out + "/log", false, sum);
    Value pos = EltwiseOps.emit(l, n, OpType.RELU, none, DType.FLOAT32, out + "/positive", false, xf);
    l.define(n, out, EltwiseOps.emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.FLOAT32, out, true, pos, lg));
  }

  /**
   * CumSum onto TFLite's CUMSUM (exclusive and reverse as attributes), on x's own bytes. A constant axis is one CUMSUM; an
   * axis computed at run time is 0 for a rank-1 input (its only valid value), else every axis' sums are computed and the
   * one the axis names is picked by SELECT_V2 (an axis outside [-rank, rank), which ONNX does not allow, gives the last's).
   */
  static void cumSum(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "x");
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold CumSum");
    int r = x.rank();
    if (r == 0) throw l.error(n, "has a scalar input; CumSum needs at least one dimension");
    Value axisIn = l.input(n, 1, "axis");
    String out = GraphLowering.output(n, 0);
    if (!axisIn.isConstant() && r > 1) {
      if (axisIn.elements() != 1 || (axisIn.dtype != DType.INT32 && axisIn.dtype != DType.INT64)) {
        throw l.error(n, "has axis '" + axisIn.name + "' of " + axisIn.elements() + " " + axisIn.dtype + " values; it must be one int32 or int64");
      }
      Value axisV = axisIn.reshaped(axisIn.name + "/scalar", new int[0]);
      Value picked = cumSumAlong(l, n, x, r - 1, out + "/axis" + (r - 1), false);
      for (int d = r - 2; d >= 0; d--) {
        Value sums = cumSumAlong(l, n, x, d, out + "/axis" + d, false);
        Value is = EltwiseOps.emit(l, n, OpType.EQUAL, new Options.None(), DType.BOOL, out + "/is" + d, false, axisV,
            Value.constant(out + "/axis" + d + "/value", Constant.ofLongs(new int[0], axisV.dtype, new long[] {d})));
        Value isNeg = EltwiseOps.emit(l, n, OpType.EQUAL, new Options.None(), DType.BOOL, out + "/is" + (d - r), false, axisV,
            Value.constant(out + "/axis" + (d - r) + "/value", Constant.ofLongs(new int[0], axisV.dtype, new long[] {d - r})));
        Value either = EltwiseOps.emit(l, n, OpType.LOGICAL_OR, new Options.None(), DType.BOOL, out + "/axis_is" + d, false, is, isNeg);
        picked = EltwiseOps.emit(l, n, OpType.SELECT_V2, new Options.None(), sums.dtype, d == 0 ? out : out + "/picked" + d, d == 0,
            either, sums, picked);
      }
      l.define(n, out, picked);
      return;
    }
    long[] ax = axisIn.isConstant() ? axisIn.constant.longs() : new long[] {0};
    if (ax.length != 1 || ax[0] < -r || ax[0] >= r) throw l.error(n, "has axis " + java.util.Arrays.toString(ax) + " for a rank-" + r + " input");
    int axis = (int) (ax[0] < 0 ? ax[0] + r : ax[0]);
    l.define(n, out, cumSumAlong(l, n, x, axis, out, true));
  }

  /** One CUMSUM of x along logical axis {@code axis}. */
  private static Value cumSumAlong(GraphLowering l, Proto.Node n, Value x, int axis, String out, boolean onnxName) throws ModelFormatException {
    Value xf = l.floatValue(x);
    Attrs a = l.attrs(n);
    TensorRef in;
    int[] perm;
    if (xf.isPlainPermutation() && xf.phys != null) {
      in = xf.phys;
      perm = xf.perm;
    } else {
      in = l.layout(xf, null);
      perm = null;
    }
    TensorRef t = l.newTensor(out, onnxName, in.shape(), in.dtype(), Quantization.NONE);
    l.op(OpType.CUMSUM, new Options.Cumsum(perm == null ? axis : perm[axis], a.i("exclusive", 0) != 0, a.i("reverse", 0) != 0), t, in);
    return Value.permuted(out, t, perm, xf.shape);
  }

  /** Mod of integer constants (exporters' shape arithmetic): C's remainder with fmod 1, Python's (the divisor's sign) without. */
  static void mod(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value a = l.input(n, 0, "A");
    Value b = l.input(n, 1, "B");
    boolean fmod = l.attrs(n).i("fmod", 0) != 0;
    if (!(a.isConstant() && b.isConstant()) && (EltwiseOps.isInteger(a.dtype) || EltwiseOps.isInteger(b.dtype))) {
      String out = GraphLowering.output(n, 0);
      l.define(n, out, EltwiseOps.intArith(l, n, fmod ? Options.IntArith.Kind.FMOD : Options.IntArith.Kind.MOD,
          l.floatValue(a), l.floatValue(b), out, true));
      return;
    }
    if (!(a.isConstant() && b.isConstant())) {
      // float32: fmod=1 is C's fmodf (onnxruntime's std::fmod); fmod=0 (opset 28) numpy's mod, TFLite's FLOOR_MOD
      Value fa = l.floatValue(a);
      Value fb = l.floatValue(b);
      if (fa.dtype != DType.FLOAT32 || fb.dtype != DType.FLOAT32) {
        throw l.error(n, "computes Mod of the " + fa.dtype + " tensor '" + fa.name + "' and the " + fb.dtype + " tensor '" + fb.name
            + "'; ONNX requires one type T: Cast one of them");
      }
      if (!fmod && l.opset < 28) {
        throw l.error(n, "has fmod=0 on float32, which ONNX allows only from opset 28 (before, float Mod must set fmod=1;"
            + " onnxruntime fails at run time): set fmod=1 for C's fmod, or export with opset 28 for numpy's mod");
      }
      String out = GraphLowering.output(n, 0);
      l.define(n, out, EltwiseOps.emit(l, n, fmod ? OpType.FMOD : OpType.FLOOR_MOD, new Options.None(), DType.FLOAT32, out, true, fa, fb));
      return;
    }
    if (a.dtype == DType.FLOAT32 || b.dtype == DType.FLOAT32) {
      throw l.error(n, "computes Mod on float constants; Kiln folds Mod of integer constants (shape arithmetic) only");
    }
    int[] shape = MathOps.broadcast(a.shape, b.shape);
    if (shape == null) throw l.error(n, "cannot broadcast " + GraphLowering.shape(a.shape) + " and " + GraphLowering.shape(b.shape));
    int[] ia = MathOps.indexMap(a.shape, shape);
    int[] ib = MathOps.indexMap(b.shape, shape);
    long[] x = a.constant.longs();
    long[] y = b.constant.longs();
    long[] z = new long[ia.length];
    for (int i = 0; i < z.length; i++) {
      long d = y[ib[i]];
      if (d == 0) throw l.error(n, "divides by zero");
      z[i] = fmod ? x[ia[i]] % d : Math.floorMod(x[ia[i]], d);
    }
    String out = GraphLowering.output(n, 0);
    l.define(n, out, Value.constant(out, Constant.ofLongs(shape, a.dtype, z)));
  }

  /** CastLike: the input in the element type of the second input; a no-op when they agree, else CAST. */
  static void castLike(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    Value like = l.input(n, 1, "target_type");
    String out = GraphLowering.output(n, 0);
    DType target = like.dtype;
    if (x.dtype == target) {
      l.define(n, out, x.renamed(out));
      return;
    }
    if (x.isConstant()) {
      throw l.error(n, "casts the constant '" + x.name + "' from " + x.dtype + " to " + target + "; Kiln folds CastLike only"
          + " to the same type (use Cast)");
    }
    Value xf = l.floatValue(x);
    if (xf.dtype == target) {
      l.define(n, out, xf.renamed(out));
      return;
    }
    TensorRef in = l.layout(xf, null);
    TensorRef t = l.newTensor(out, true, in.shape(), target, Quantization.NONE);
    l.op(OpType.CAST, new Options.None(), t, in);
    l.define(n, out, Value.tensor(out, t, xf.shape));
  }
}
