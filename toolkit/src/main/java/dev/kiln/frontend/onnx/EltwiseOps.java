package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Elementwise operators lowered onto the TFLite-named math kernels (issue 9 item 5): unary math,
 * activations with parameters, comparisons and logic, Pow, run-time Div, variadic Max/Min, Where
 * and run-time Cast. Elementwise ops run in whatever layout their inputs already have; ops with
 * several inputs pick one common layout as {@link MathOps#emitBinary} does (NHWC for a 4-D result
 * when an input is NHWC).
 */
final class EltwiseOps {
  private EltwiseOps() {}

  private static final Map<String, OpType> UNARY = Map.ofEntries(
      Map.entry("Exp", OpType.EXP), Map.entry("Log", OpType.LOG), Map.entry("Sqrt", OpType.SQRT),
      Map.entry("Abs", OpType.ABS), Map.entry("Neg", OpType.NEG), Map.entry("Floor", OpType.FLOOR),
      Map.entry("Ceil", OpType.CEIL), Map.entry("Round", OpType.ROUND), Map.entry("Sin", OpType.SIN),
      Map.entry("Cos", OpType.COS), Map.entry("Not", OpType.LOGICAL_NOT), Map.entry("HardSwish", OpType.HARD_SWISH),
      Map.entry("LeakyRelu", OpType.LEAKY_RELU), Map.entry("Elu", OpType.ELU), Map.entry("Gelu", OpType.GELU));

  private static final Map<String, OpType> BINARY = Map.ofEntries(
      Map.entry("Pow", OpType.POW), Map.entry("Equal", OpType.EQUAL), Map.entry("Greater", OpType.GREATER),
      Map.entry("GreaterOrEqual", OpType.GREATER_EQUAL), Map.entry("Less", OpType.LESS),
      Map.entry("LessOrEqual", OpType.LESS_EQUAL), Map.entry("And", OpType.LOGICAL_AND), Map.entry("Or", OpType.LOGICAL_OR),
      Map.entry("PRelu", OpType.PRELU), Map.entry("Max", OpType.MAXIMUM), Map.entry("Min", OpType.MINIMUM));

  private static boolean isComparison(OpType t) {
    return switch (t) {
      case EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL -> true;
      default -> false;
    };
  }

  // ---- unary ----------------------------------------------------------------------------------

  static void unary(GraphLowering l, Proto.Node n) throws ModelFormatException {
    String op = n.opType();
    Value x = l.input(n, 0, "input");
    if (x.isConstant()) {
      Constant folded = ActivationOps.foldExact(op, x.constant);
      if (folded == null) throw l.error(n, "has a constant input; Kiln does not fold " + op + " (it runs on computed tensors)");
      l.define(n, GraphLowering.output(n, 0), Value.constant(GraphLowering.output(n, 0), folded));
      return;
    }
    x = l.floatValue(x);
    OpType type = UNARY.get(op);
    if ((op.equals("Abs") || op.equals("Neg")) && isInteger(x.dtype) && !(x.dtype == DType.INT32 || op.equals("Neg") && x.dtype == DType.INT64)) {
      integerAbsNeg(l, n, x);
      return;
    }
    Options options = new Options.None();
    Attrs a = l.attrs(n);
    switch (op) {
      case "LeakyRelu" -> options = new Options.LeakyRelu(a.f("alpha", 0.01f));
      case "Elu" -> {
        float alpha = a.f("alpha", 1f);
        if (alpha != 1f) {
          ActivationOps.eluAlpha(l, n, x, alpha);
          return;
        }
      }
      case "Gelu" -> {
        String approx = a.s("approximate", "none");
        if (!approx.equals("none") && !approx.equals("tanh")) throw l.error(n, "has approximate '" + approx + "'; ONNX allows none or tanh");
        options = new Options.Gelu(approx.equals("tanh"));
      }
      default -> { }
    }
    l.define(n, GraphLowering.output(n, 0), emitUnary(l, n, type, options, x, GraphLowering.output(n, 0), true));
  }

  /**
   * Abs and Neg of a plain integer tensor whose type TFLite's ABS/NEG kernels do not take unquantized: Neg as
   * INT_ARITH {@code 0 - x}, Abs as {@code max(x, 0 - x)} (both wrap: Neg and Abs of MIN are MIN, as onnxruntime
   * computes them in int and converts back); Abs of uint8 is x itself.
   */
  private static void integerAbsNeg(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    String out = GraphLowering.output(n, 0);
    if (n.opType().equals("Abs") && x.dtype == DType.UINT8) {
      l.define(n, out, x.renamed(out));
      return;
    }
    Value zero = Value.constant(out + "/zero", Constant.ofLongs(new int[0], x.dtype, new long[] {0}));
    boolean neg = n.opType().equals("Neg");
    Value negated = intArith(l, n, Options.IntArith.Kind.SUB, zero, x, neg ? out : out + "/negated", neg);
    l.define(n, out, neg ? negated : intArith(l, n, Options.IntArith.Kind.MAX, x, negated, out, true));
  }

  /** {@code type(x)} in x's own layout. */
  static Value emitUnary(GraphLowering l, Proto.Node n, OpType type, Options options, Value x, String out, boolean onnxName)
      throws ModelFormatException {
    TensorRef in = x.phys;
    TensorRef t = l.newTensor(out, onnxName, in.shape(), in.dtype(), Quantization.NONE);
    l.op(type, options, t, in);
    return Value.permuted(out, t, x.perm, x.shape);
  }

  /** Reciprocal: DIV of the constant 1 by x. */
  static void reciprocal(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "input"));
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold Reciprocal");
    requireFloat(l, n, x);
    Value one = Value.constant(x.name + "/one", Constant.ofFloats(new int[0], new float[] {1f}));
    String out = GraphLowering.output(n, 0);
    l.define(n, out, emit(l, n, OpType.DIV, new Options.None(), DType.FLOAT32, out, true, one, x));
  }

  /** HardSigmoid {@code max(0, min(1, alpha*x + beta))}: MUL, ADD, CLAMP. */
  static void hardSigmoid(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "input"));
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold HardSigmoid");
    requireFloat(l, n, x);
    Attrs a = l.attrs(n);
    String out = GraphLowering.output(n, 0);
    Value alpha = Value.constant(out + "/alpha", Constant.ofFloats(new int[0], new float[] {a.f("alpha", 0.2f)}));
    Value beta = Value.constant(out + "/beta", Constant.ofFloats(new int[0], new float[] {a.f("beta", 0.5f)}));
    Value ax = emit(l, n, OpType.MUL, new Options.Elementwise(Activation.NONE), DType.FLOAT32, out + "/scaled", false, x, alpha);
    Value s = emit(l, n, OpType.ADD, new Options.Elementwise(Activation.NONE), DType.FLOAT32, out + "/shifted", false, ax, beta);
    l.define(n, out, emitUnary(l, n, OpType.CLAMP, new Options.Clamp(0f, 1f), s, out, true));
  }

  /** Selu {@code gamma * (max(x, 0) + alpha * min(elu(x), 0))}: ELU, MINIMUM, MUL, RELU, ADD, MUL. */
  static void selu(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.floatValue(l.input(n, 0, "input"));
    if (x.isConstant()) throw l.error(n, "has a constant input; Kiln does not fold Selu");
    requireFloat(l, n, x);
    Attrs a = l.attrs(n);
    String out = GraphLowering.output(n, 0);
    Options none = new Options.Elementwise(Activation.NONE);
    Value zero = Value.constant(out + "/zero", Constant.ofFloats(new int[0], new float[] {0f}));
    Value alpha = Value.constant(out + "/alpha", Constant.ofFloats(new int[0], new float[] {a.f("alpha", 1.67326319217681884765625f)}));
    Value gamma = Value.constant(out + "/gamma", Constant.ofFloats(new int[0], new float[] {a.f("gamma", 1.05070102214813232421875f)}));
    Value elu = emitUnary(l, n, OpType.ELU, new Options.None(), x, out + "/elu", false);
    Value neg = emit(l, n, OpType.MINIMUM, new Options.None(), DType.FLOAT32, out + "/negative", false, elu, zero);
    Value scaledNeg = emit(l, n, OpType.MUL, none, DType.FLOAT32, out + "/alpha_negative", false, neg, alpha);
    Value pos = emitUnary(l, n, OpType.RELU, new Options.None(), x, out + "/positive", false);
    Value sum = emit(l, n, OpType.ADD, none, DType.FLOAT32, out + "/sum", false, pos, scaledNeg);
    l.define(n, out, emit(l, n, OpType.MUL, none, DType.FLOAT32, out, true, sum, gamma));
  }

  private static void requireFloat(GraphLowering l, Proto.Node n, Value x) throws ModelFormatException {
    if (x.dtype != DType.FLOAT32) {
      throw l.error(n, "computes on the " + x.dtype + " tensor '" + x.name + "'; Kiln compiles " + n.opType() + " on float32");
    }
  }

  // ---- binary and variadic --------------------------------------------------------------------

  /** Pow, comparisons, And/Or, PRelu, and Max/Min of any number of inputs (folded pairwise). */
  static void binary(GraphLowering l, Proto.Node n) throws ModelFormatException {
    OpType type = BINARY.get(n.opType());
    boolean variadic = type == OpType.MAXIMUM || type == OpType.MINIMUM;
    List<Value> in = new ArrayList<>();
    int count = variadic ? n.inputs().size() : 2;
    for (int i = 0; i < count; i++) in.add(l.floatValue(l.input(n, i, "input " + i)));
    if (in.stream().allMatch(Value::isConstant)) {
      if (type == OpType.POW && in.get(0).dtype == DType.FLOAT32) {
        // exporters compute attention's 1/sqrt(d) scale as a Pow of shape arithmetic
        l.define(n, GraphLowering.output(n, 0), Value.constant(GraphLowering.output(n, 0), ActivationOps.foldPow(l, n, in.get(0).constant,
            in.get(1).constant)));
        return;
      }
      if (type == OpType.PRELU) throw l.error(n, "has only constant inputs; Kiln does not fold " + n.opType());
      // exporters' mask and shape arithmetic (a ViT's class-token bookkeeping): computed now, never on the device
      Constant acc = in.get(0).constant;
      for (int i = 1; i < in.size(); i++) acc = foldBinary(l, n, type, acc, in.get(i).constant);
      l.define(n, GraphLowering.output(n, 0), Value.constant(GraphLowering.output(n, 0), acc));
      return;
    }
    String out = GraphLowering.output(n, 0);
    if (in.size() == 1) {
      l.define(n, out, in.get(0).renamed(out));
      return;
    }
    if (type == OpType.POW && in.get(0).dtype == DType.FLOAT32 && isInteger(in.get(1).dtype)) {
      // a float base to an integer power (ONNX's T1): the exponent as float32, as onnxruntime's std::pow converts it
      in.set(1, floatExponent(l, in.get(1), out + "/exponent"));
    }
    Options.IntArith.Kind kind = switch (type) {
      case EQUAL -> Options.IntArith.Kind.EQUAL;
      case LESS -> Options.IntArith.Kind.LESS;
      case LESS_EQUAL -> Options.IntArith.Kind.LESS_EQUAL;
      case GREATER -> Options.IntArith.Kind.GREATER;
      case GREATER_EQUAL -> Options.IntArith.Kind.GREATER_EQUAL;
      case MAXIMUM -> Options.IntArith.Kind.MAX;
      case MINIMUM -> Options.IntArith.Kind.MIN;
      default -> null;
    };
    if (kind != null && in.stream().anyMatch(v -> isInteger(v.dtype))) {
      // plain integers (TFLite's int8/uint8 comparisons would rescale quantized codes)
      Value acc = in.get(0);
      for (int i = 1; i < in.size(); i++) {
        boolean last = i == in.size() - 1;
        acc = intArith(l, n, kind, acc, in.get(i), last ? out : out + "/" + i, last);
      }
      l.define(n, out, acc);
      return;
    }
    DType dtype = isComparison(type) ? DType.BOOL : in.get(0).dtype;
    Options options = type == OpType.POW || type == OpType.PRELU || isComparison(type) || variadic
        || type == OpType.LOGICAL_AND || type == OpType.LOGICAL_OR ? new Options.None() : new Options.Elementwise(Activation.NONE);
    Value acc = in.get(0);
    for (int i = 1; i < in.size(); i++) {
      boolean last = i == in.size() - 1;
      acc = emit(l, n, type, options, dtype, last ? out : out + "/" + i, last, acc, in.get(i));
    }
    l.define(n, out, acc);
  }

  /**
   * A comparison, And/Or or Max/Min of two constants with broadcasting: on floats if either is float32 (as the
   * kernels compare), else on the integers exactly; comparisons give bool, Max/Min the operands' type.
   */
  static Constant foldBinary(GraphLowering l, Proto.Node n, OpType type, Constant a, Constant b) throws ModelFormatException {
    int[] shape = MathOps.broadcast(a.shape(), b.shape());
    if (shape == null) {
      throw l.error(n, "cannot broadcast the constant shapes " + GraphLowering.shape(a.shape()) + " and " + GraphLowering.shape(b.shape()));
    }
    dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the folded constant", shape, 8);
    int count = (int) dev.kiln.ir.Shape.elements(shape);
    int[] ia = MathOps.indexMap(a.shape(), shape);
    int[] ib = MathOps.indexMap(b.shape(), shape);
    boolean floats = a.dtype() == DType.FLOAT32 || b.dtype() == DType.FLOAT32;
    if (type == OpType.MAXIMUM || type == OpType.MINIMUM) {
      if (a.dtype() != b.dtype()) throw l.error(n, "takes the " + (type == OpType.MAXIMUM ? "Max" : "Min") + " of " + a.dtype() + " and " + b.dtype());
      if (floats) {
        float[] x = a.floats();
        float[] y = b.floats();
        float[] z = new float[count];
        for (int i = 0; i < count; i++) z[i] = type == OpType.MAXIMUM ? Math.max(x[ia[i]], y[ib[i]]) : Math.min(x[ia[i]], y[ib[i]]);
        return Constant.ofFloats(shape, z);
      }
      long[] x = a.longs();
      long[] y = b.longs();
      long[] z = new long[count];
      for (int i = 0; i < count; i++) z[i] = type == OpType.MAXIMUM ? Math.max(x[ia[i]], y[ib[i]]) : Math.min(x[ia[i]], y[ib[i]]);
      return Constant.ofLongs(shape, a.dtype(), z);
    }
    long[] z = new long[count];
    if (floats) {
      float[] x = a.floats();
      float[] y = b.floats();
      for (int i = 0; i < count; i++) {
        float u = x[ia[i]];
        float v = y[ib[i]];
        boolean logic = type == OpType.LOGICAL_AND || type == OpType.LOGICAL_OR;
        // NaN compares false with everything, as IEEE 754 and the kernels have it
        z[i] = !logic && (Float.isNaN(u) || Float.isNaN(v)) ? 0 : compare(type, Float.compare(u, v), u == v, u != 0, v != 0);
      }
    } else {
      long[] x = a.longs();
      long[] y = b.longs();
      for (int i = 0; i < count; i++) z[i] = compare(type, Long.compare(x[ia[i]], y[ib[i]]), x[ia[i]] == y[ib[i]], x[ia[i]] != 0, y[ib[i]] != 0);
    }
    return Constant.ofLongs(shape, DType.BOOL, z);
  }

  private static long compare(OpType type, int order, boolean equal, boolean u, boolean v) {
    boolean r = switch (type) {
      case EQUAL -> equal;
      case GREATER -> !equal && order > 0;
      case GREATER_EQUAL -> equal || order > 0;
      case LESS -> !equal && order < 0;
      case LESS_EQUAL -> equal || order < 0;
      case LOGICAL_AND -> u && v;
      case LOGICAL_OR -> u || v;
      default -> throw new IllegalStateException(type.toString());
    };
    return r ? 1 : 0;
  }

  /**
   * Div by a computed tensor: TFLite DIV (a constant divisor stays a MUL by its reciprocal); on integer tensors
   * INT_ARITH's truncating division, by a constant divisor too.
   */
  static void div(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value b = l.input(n, 1, "second input");
    Value a0 = l.input(n, 0, "first input");
    if (!(a0.isConstant() && b.isConstant()) && (isInteger(a0.dtype) || isInteger(b.dtype))) {
      // integer Div truncates toward zero (a constant divisor too: no reciprocal)
      String out = GraphLowering.output(n, 0);
      l.define(n, out, intArith(l, n, Options.IntArith.Kind.DIV, l.floatValue(a0), l.floatValue(b), out, true));
      return;
    }
    if (b.isConstant()) {
      MathOps.binary(l, n);
      return;
    }
    Value a = l.floatValue(l.input(n, 0, "first input"));
    b = l.floatValue(b);
    if (a.dtype != b.dtype || a.dtype != DType.FLOAT32 && a.dtype != DType.INT32) {
      throw l.error(n, "divides " + a.dtype + " by " + b.dtype + "; Kiln compiles a run-time Div on float32 or int32");
    }
    String out = GraphLowering.output(n, 0);
    l.define(n, out, emit(l, n, OpType.DIV, new Options.None(), a.dtype, out, true, a, b));
  }

  /** An integer exponent as float32: a constant converted now, a computed one by CAST. */
  private static Value floatExponent(GraphLowering l, Value y, String name) {
    if (y.isConstant()) return Value.constant(name, Constant.ofFloats(y.constant.shape(), y.constant.floats()));
    TensorRef t = l.newTensor(name, false, y.phys.shape(), DType.FLOAT32, Quantization.NONE);
    l.op(OpType.CAST, new Options.None(), t, y.phys);
    return Value.permuted(name, t, y.perm, y.shape);
  }

  static boolean isInteger(DType t) {
    return t == DType.INT8 || t == DType.UINT8 || t == DType.INT16 || t == DType.INT32 || t == DType.INT64;
  }

  /**
   * {@code kind(a, b)} on plain integer tensors (no QDQ: a dequantized value is float32 here) as INT_ARITH,
   * ONNX's integer semantics; a constant operand must have the computed one's type, as ONNX's T requires.
   */
  static Value intArith(GraphLowering l, Proto.Node n, Options.IntArith.Kind kind, Value a, Value b, String out, boolean onnxName)
      throws ModelFormatException {
    if (a.dtype != b.dtype || !isInteger(a.dtype)) {
      throw l.error(n, "computes " + n.opType() + " of the " + a.dtype + " tensor '" + a.name + "' and the " + b.dtype + " tensor '"
          + b.name + "'; Kiln compiles integer " + n.opType() + " on two tensors of one type of int8, uint8, int16, int32, int64"
          + " (ONNX requires one type T: Cast one of them)");
    }
    for (Value v : new Value[] {a, b}) {
      if (v.uint8 || v.phys != null && v.phys.quantization().isQuantized()) {
        throw l.error(n, "computes " + n.opType() + " on the codes of the quantized tensor '" + v.name + "' (a QuantizeLinear output"
            + " not read through DequantizeLinear); Kiln compiles integer arithmetic on plain integer tensors: dequantize"
            + " it first, or compute on the tensor before QuantizeLinear");
      }
    }
    return emit(l, n, OpType.INT_ARITH, new Options.IntArith(kind), kind.isComparison() ? DType.BOOL : a.dtype, out, onnxName, a, b);
  }

  /** Where(cond, x, y): SELECT_V2 with three-way broadcasting. */
  static void where(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value c = l.input(n, 0, "condition");
    Value x = l.floatValue(l.input(n, 1, "x"));
    Value y = l.floatValue(l.input(n, 2, "y"));
    if (c.dtype != DType.BOOL) throw l.error(n, "has a " + c.dtype + " condition '" + c.name + "'; Where needs bool");
    String out = GraphLowering.output(n, 0);
    if (c.isConstant() && x.isConstant() && y.isConstant()) {
      if (x.dtype != y.dtype) throw l.error(n, "chooses between " + x.dtype + " and " + y.dtype + "; they must have one type");
      int[] cx = MathOps.broadcast(c.shape, x.shape);
      int[] shape = cx == null ? null : MathOps.broadcast(cx, y.shape);
      if (shape == null) {
        throw l.error(n, "cannot broadcast the constant shapes " + GraphLowering.shape(c.shape) + ", " + GraphLowering.shape(x.shape)
            + " and " + GraphLowering.shape(y.shape));
      }
      dev.kiln.frontend.ModelLimits.checkFolded(l.file, n.label() + ": the folded constant", shape, 8);
      int[] ic = MathOps.indexMap(c.shape, shape);
      int[] ix = MathOps.indexMap(x.shape, shape);
      int[] iy = MathOps.indexMap(y.shape, shape);
      long[] cond = c.constant.longs();
      int e = x.dtype.byteSize();
      byte[] bx = x.constant.bytes();
      byte[] by = y.constant.bytes();
      byte[] data = new byte[ic.length * e];
      for (int i = 0; i < ic.length; i++) {
        boolean pick = cond[ic[i]] != 0;
        System.arraycopy(pick ? bx : by, (pick ? ix[i] : iy[i]) * e, data, i * e, e);
      }
      l.define(n, out, Value.constant(out, new Constant(shape, x.dtype, data)));
      return;
    }
    l.define(n, out, emit(l, n, OpType.SELECT_V2, new Options.None(), x.dtype, out, true, c, x, y));
  }

  /** Cast of a computed tensor: CAST (constants are folded by {@link ShapeOps#cast}). */
  static void cast(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value x = l.input(n, 0, "input");
    DType type = TensorDecoder.dtype(l.attrs(n).int32("to", 0));
    if (x.isConstant() || type == null || x.dtype == type) {
      ShapeOps.cast(l, n);
      return;
    }
    x = l.floatValue(x);
    String out = GraphLowering.output(n, 0);
    TensorRef t = l.newTensor(out, true, x.phys.shape(), type, Quantization.NONE);
    l.op(OpType.CAST, new Options.None(), t, x.phys);
    l.define(n, out, Value.permuted(out, t, x.perm, x.shape));
  }

  /**
   * Clip: constant bounds as before ({@link MathOps#unary}); bounds computed at run time as MAXIMUM then MINIMUM; an
   * integer tensor with any bounds as INT_ARITH MAX then MIN.
   */
  static void clip(GraphLowering l, Proto.Node n) throws ModelFormatException {
    Value in0 = l.input(n, 0, "input");
    boolean integer = !in0.isConstant() && isInteger(in0.dtype);
    if (!integer && (l.opset < 11 || MathOps.clipBounds(l, n, false) != null)) {
      MathOps.unary(l, n);
      return;
    }
    Value x = l.floatValue(l.input(n, 0, "input"));
    Value lo = l.optional(n, 1);
    Value hi = l.optional(n, 2);
    String out = GraphLowering.output(n, 0);
    Value v = x;
    if (integer) {
      if (lo != null) v = intArith(l, n, Options.IntArith.Kind.MAX, v, l.floatValue(lo), hi == null ? out : out + "/lower", hi == null);
      if (hi != null) v = intArith(l, n, Options.IntArith.Kind.MIN, v, l.floatValue(hi), out, true);
      if (v == x) v = x.renamed(out);
      l.define(n, out, v);
      return;
    }
    if (lo != null) {
      v = emit(l, n, OpType.MAXIMUM, new Options.None(), x.dtype, hi == null ? out : out + "/lower", hi == null, v, l.floatValue(lo));
    }
    if (hi != null) v = emit(l, n, OpType.MINIMUM, new Options.None(), x.dtype, out, true, v, l.floatValue(hi));
    l.define(n, out, v);
  }

  /**
   * {@code type(inputs...)} with numpy broadcasting, in NHWC when the result is 4-D and an input is
   * NHWC, in the inputs' common layout when all computed inputs share one, else in logical order.
   */
  static Value emit(GraphLowering l, Proto.Node n, OpType type, Options options, DType dtype, String out, boolean onnxName,
      Value... in) throws ModelFormatException {
    int[] shape = new int[0];
    for (Value v : in) {
      int[] s = MathOps.broadcast(shape, v.shape);
      if (s == null) {
        throw l.error(n, "cannot broadcast the shapes of its inputs " + Arrays.stream(in).map(u -> "'" + u.name + "' "
            + GraphLowering.shape(u.shape)).toList() + " (numpy rules: trailing dimensions equal or 1)");
      }
      shape = s;
    }
    int r = shape.length;
    int[] q = null;
    boolean anyNhwc = false;
    for (Value v : in) anyNhwc |= GraphLowering.isNhwc(v);
    if (r == 4 && anyNhwc) {
      q = GraphLowering.NHWC;
    } else {
      int[] common = null;
      boolean ok = true;
      boolean first = true;
      for (Value v : in) {
        if (v.isConstant()) continue;
        if (v.perm == null || !v.isPlainPermutation() || !Arrays.equals(v.shape, shape)) { ok = false; break; }
        if (first) common = v.perm;
        else if (!Arrays.equals(common, v.perm)) { ok = false; break; }
        first = false;
      }
      if (ok && common != null) q = Value.inverse(common);
    }
    TensorRef[] refs = new TensorRef[in.length];
    for (int i = 0; i < in.length; i++) refs[i] = l.layout(MathOps.expand(in[i], r), q);
    int[] phys = q == null ? shape : Value.permute(shape, q);
    TensorRef t = l.newTensor(out, onnxName, phys, dtype, Quantization.NONE);
    l.op(type, options, t, refs);
    return Value.permuted(out, t, q == null ? null : Value.inverse(q), shape);
  }
}
