package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;
import static dev.kiln.codegen.kernels.MathKernels.requireDType;
import static dev.kiln.codegen.kernels.MathKernels.requireSameDType;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.Locale;
import java.util.Set;

/**
 * Two-input elementwise ops with numpy broadcasting: DIV FLOOR_DIV FLOOR_MOD FMOD (ONNX) POW SQUARED_DIFFERENCE
 * MAXIMUM MINIMUM, the six comparisons, LOGICAL_AND/OR, PRELU, and int32/int64 ADD SUB MUL. The
 * types are those TFLite 2.21's kernels run; int8 comparisons, SQUARED_DIFFERENCE, PRELU and DIV get
 * their Prepare constants here (tflite comparisons.cc, squared_difference.cc, activations.cc, div.cc).
 */
final class BinaryMathEmitter implements KernelEmitter {
  private static final DType F = DType.FLOAT32;
  private static final DType S8 = DType.INT8;
  private static final DType I32 = DType.INT32;
  private static final DType I64 = DType.INT64;
  private static final DType I16 = DType.INT16;
  private static final DType U8 = DType.UINT8;
  private static final DType B = DType.BOOL;

  private final OpType type;

  BinaryMathEmitter(OpType type) { this.type = type; }

  Set<DType> types() {
    return switch (type) {
      case DIV -> Set.of(F, I32, S8);
      case FLOOR_DIV, POW -> Set.of(F, I32);
      case FLOOR_MOD -> Set.of(F, I32, I64);
      case FMOD -> Set.of(F);
      case SQUARED_DIFFERENCE -> Set.of(F, I32, S8);
      case MAXIMUM, MINIMUM -> Set.of(F, I32, I64, S8, I16);
      case GREATER, GREATER_EQUAL, LESS, LESS_EQUAL -> Set.of(F, I32, I64, S8, U8, I16);
      case EQUAL, NOT_EQUAL -> Set.of(F, I32, I64, S8, U8, I16, B);
      case LOGICAL_AND, LOGICAL_OR -> Set.of(B);
      case PRELU -> Set.of(F, S8);
      case ADD, SUB, MUL -> Set.of(I32, I64);
      default -> throw new IllegalStateException(type.toString());
    };
  }

  private boolean isComparison() {
    return switch (type) {
      case EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL -> true;
      default -> false;
    };
  }

  private Activation activation(Op op) {
    return op.options() instanceof Options.Elementwise e ? e.activation() : Activation.NONE;
  }

  @Override public void check(Op op) {
    requireArity(op, 2);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    requireDType(op, a, "input 1", types());
    requireSameDType(op, a, b, "input 1", "input 2");
    if (isComparison() && out.dtype() != B) {
      throw unsupported(op, "output '" + out.name() + "' is " + out.dtype() + "; a comparison writes bool");
    }
    if (!isComparison()) requireSameDType(op, a, out, "input 1", "output");
    Activation act = activation(op);
    if (act == Activation.TANH || act == Activation.SIGN_BIT) {
      throw unsupported(op, "fused activation " + act + " is not supported (only NONE, RELU, RELU_N1_TO_1, RELU6)");
    }
    try {
      BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
    ElementwiseKernels.count(op, out);
    if ((a.dtype() == S8 || a.dtype() == U8) && type != OpType.MAXIMUM && type != OpType.MINIMUM) {
      perTensor(op, a, "input 1");
      perTensor(op, b, "input 2");
      if (!isComparison()) perTensor(op, out, "output");
      params(op, BroadcastPlan.of(a.shape(), b.shape(), out.shape()));
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    BroadcastPlan plan = BroadcastPlan.of(a.shape(), b.shape(), out.shape());
    String[] structAndInit = params(op, plan);
    String name = type.name().toLowerCase(Locale.ROOT);
    String p = ctx.constant(structAndInit[0], name + op.index(), structAndInit[1]);
    ctx.body().line("kiln_" + name + "_" + MathKernels.suffix(a.dtype()) + "(&" + p + ", " + ctx.data(a) + ", "
        + ctx.data(b) + ", " + ctx.data(out) + ");");
  }

  /** {C struct type, initializer} of the op's parameters. */
  private String[] params(Op op, BroadcastPlan plan) {
    DType t = op.input(0).dtype();
    String bc = ".bc = " + plan.initializer();
    Activation act = activation(op);
    if (type == OpType.DIV && t == F || (type == OpType.ADD || type == OpType.SUB || type == OpType.MUL || type == OpType.DIV) && t == I32) {
      if (t == F) {
        float[] r = FixedPoint.activationRangeFloat(act);
        return new String[] {"kiln_arith_f32_params", ElementwiseKernels.initializer(bc,
            ".act_min = " + CLiterals.f32(r[0]) + ", .act_max = " + CLiterals.f32(r[1]))};
      }
      long[] r = integerRange(act, Integer.MIN_VALUE, Integer.MAX_VALUE);
      return new String[] {"kiln_arith_i32_params", ElementwiseKernels.initializer(bc,
          ".act_min = " + CLiterals.i32((int) r[0]) + ", .act_max = " + CLiterals.i32((int) r[1]))};
    }
    if ((type == OpType.ADD || type == OpType.SUB || type == OpType.MUL) && t == I64) {
      long[] r = integerRange(act, Long.MIN_VALUE, Long.MAX_VALUE);
      return new String[] {"kiln_arith_i64_params", ElementwiseKernels.initializer(bc,
          ".act_min = " + i64(r[0]) + ", .act_max = " + i64(r[1]))};
    }
    if ((t == S8 || t == U8) && isComparison()) return compareParams(op, bc);
    if (t == S8 && type == OpType.SQUARED_DIFFERENCE) return squaredDifferenceParams(op, bc);
    if (t == S8 && type == OpType.PRELU) return preluParams(op, bc);
    if (t == S8 && type == OpType.DIV) return divParams(op, bc);
    return new String[] {"kiln_binary_params", ElementwiseKernels.initializer(bc)};
  }

  private static String i64(long v) {
    return v == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : v + "LL";
  }

  /** CalculateActivationRange for integer types. */
  static long[] integerRange(Activation act, long min, long max) {
    return switch (act) {
      case RELU -> new long[] {0, max};
      case RELU6 -> new long[] {0, 6};
      case RELU_N1_TO_1 -> new long[] {-1, 1};
      default -> new long[] {min, max};
    };
  }

  /** QuantizeMultiplierSmallerThanOneExp as {multiplier, right shift}, refusing multipliers >= 1. */
  private static int[] smallerThanOne(Op op, double m, String what) {
    if (!(m > 0) || !(m < 1)) {
      throw unsupported(op, what + " = " + m + " must be in (0, 1) for TFLite's int8 kernel; re-quantize the model");
    }
    Multiplier q = FixedPoint.quantizeMultiplier(m);
    return new int[] {q.multiplier(), -q.shift()};
  }

  /** comparisons.cc: each input rescaled by its own scale (as a multiplier below 1) after a left shift of 8. */
  private String[] compareParams(Op op, String bc) {
    Quantization q1 = op.input(0).quantization();
    Quantization q2 = op.input(1).quantization();
    int[] m1 = smallerThanOne(op, q1.scale(), "input 1's scale");
    int[] m2 = smallerThanOne(op, q2.scale(), "input 2's scale");
    return new String[] {"kiln_compare_s8_params", ElementwiseKernels.initializer(bc,
        ".input1_offset = " + -q1.zeroPoint() + ", .input1_multiplier = " + CLiterals.i32(m1[0]) + ", .input1_right_shift = " + m1[1],
        ".input2_offset = " + -q2.zeroPoint() + ", .input2_multiplier = " + CLiterals.i32(m2[0]) + ", .input2_right_shift = " + m2[1])};
  }

  /** squared_difference.cc Prepare (left shift 7, multipliers from 2 * max(s1, s2) in double). */
  private String[] squaredDifferenceParams(Op op, String bc) {
    Quantization q1 = op.input(0).quantization();
    Quantization q2 = op.input(1).quantization();
    Quantization qo = op.output().quantization();
    double twiceMax = 2.0 * Math.max(q1.scale(), q2.scale());
    int[] m1 = smallerThanOne(op, q1.scale() / twiceMax, "s1 / (2 max(s1, s2))");
    int[] m2 = smallerThanOne(op, q2.scale() / twiceMax, "s2 / (2 max(s1, s2))");
    double real = twiceMax * twiceMax / ((double) (1 << 14) * qo.scale());
    Multiplier mo = FixedPoint.quantizeMultiplier(real);
    if (mo.shift() > 1) {
      throw unsupported(op, "the output scale " + qo.scale() + " is too small for the input scales (multiplier " + real
          + " needs a left shift of " + mo.shift() + ", which overflows TFLite's 32-bit arithmetic); re-quantize the model");
    }
    return new String[] {"kiln_squared_difference_s8_params", ElementwiseKernels.initializer(bc,
        ".input1_offset = " + -q1.zeroPoint() + ", .input1_multiplier = " + CLiterals.i32(m1[0]) + ", .input1_right_shift = " + m1[1],
        ".input2_offset = " + -q2.zeroPoint() + ", .input2_multiplier = " + CLiterals.i32(m2[0]) + ", .input2_right_shift = " + m2[1],
        ".output_multiplier = " + CLiterals.i32(mo.multiplier()) + ", .output_shift = " + mo.shift()
            + ", .output_offset = " + qo.zeroPoint(),
        ".act_min = -128, .act_max = 127")};
  }

  /** activations.cc PreluPrepare: s_in/s_out and s_in*s_alpha/s_out in float32. */
  private String[] preluParams(Op op, String bc) {
    Quantization qi = op.input(0).quantization();
    Quantization qa = op.input(1).quantization();
    Quantization qo = op.output().quantization();
    float pos = qi.scale() / qo.scale();
    float neg = qi.scale() * qa.scale() / qo.scale();
    Multiplier mp = FixedPoint.quantizeMultiplier(pos);
    Multiplier mn = FixedPoint.quantizeMultiplier(neg);
    if (mp.shift() > 7 || mn.shift() > 0 && (long) 255 * 255 << mn.shift() >= (1L << 31)) {
      throw unsupported(op, "the multipliers s_in/s_out = " + pos + " and s_in*s_alpha/s_out = " + neg
          + " overflow 32-bit arithmetic (TFLite's result would be undefined); re-quantize the model");
    }
    return new String[] {"kiln_prelu_s8_params", ElementwiseKernels.initializer(bc,
        ".input_offset = " + -qi.zeroPoint() + ", .alpha_offset = " + -qa.zeroPoint() + ", .output_offset = " + qo.zeroPoint(),
        ".multiplier_pos = " + CLiterals.i32(mp.multiplier()) + ", .shift_pos = " + mp.shift(),
        ".multiplier_neg = " + CLiterals.i32(mn.multiplier()) + ", .shift_neg = " + mn.shift())};
  }

  /** div.cc Prepare for int8: s1 / (s2 * s_out) in float32, widened to double for QuantizeMultiplier. */
  private String[] divParams(Op op, String bc) {
    Quantization q1 = op.input(0).quantization();
    Quantization q2 = op.input(1).quantization();
    Quantization qo = op.output().quantization();
    float real = q1.scale() / (q2.scale() * qo.scale());
    Multiplier m = FixedPoint.quantizeMultiplier(real);
    int[] r = FixedPoint.activationRangeInt8(activation(op), qo.scale(), qo.zeroPoint());
    return new String[] {"kiln_div_s8_params", ElementwiseKernels.initializer(bc,
        ".input1_offset = " + -q1.zeroPoint() + ", .input2_offset = " + -q2.zeroPoint(),
        ".output_multiplier = " + CLiterals.i32(m.multiplier()) + ", .output_shift = " + m.shift()
            + ", .output_offset = " + qo.zeroPoint(),
        ".act_min = " + r[0] + ", .act_max = " + r[1])};
  }

  @Override public String toString() { return "BinaryMathEmitter[" + type + "]"; }
}
