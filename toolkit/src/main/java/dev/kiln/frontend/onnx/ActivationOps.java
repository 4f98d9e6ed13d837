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
    dev.kiln.frontend.ModelLimits.checkTensor(l.file, n.label() + ": the folded constant", shape, 4);
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
