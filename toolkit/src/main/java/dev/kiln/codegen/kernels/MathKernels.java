package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The elementwise-math family (family: ops-eltwise): unary math and activations, binary math with
 * broadcasting, comparisons, logic, SELECT_V2, CAST, ADD_N, ZEROS_LIKE, FILL, LOG_SOFTMAX, and the
 * integer (int32, int64) forms of ADD, SUB and MUL. Eval routines live in {@code kiln_eltwise_math.c};
 * int8 unary ops are tables made by {@link Int8UnaryTables}.
 */
final class MathKernels {
  static final List<String> SOURCES = List.of("kiln_eltwise_math.h", "kiln_eltwise_math.c");

  private MathKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    for (OpType t : List.of(OpType.ABS, OpType.NEG, OpType.SQRT, OpType.RSQRT, OpType.SQUARE, OpType.EXP, OpType.LOG,
        OpType.SIN, OpType.COS, OpType.CEIL, OpType.FLOOR, OpType.ROUND, OpType.ELU, OpType.HARD_SWISH, OpType.GELU,
        OpType.RELU_N1_TO_1, OpType.LEAKY_RELU, OpType.LOGICAL_NOT, OpType.ZEROS_LIKE)) {
      emitters.put(t, new UnaryMathEmitter(t));
    }
    for (OpType t : List.of(OpType.DIV, OpType.FLOOR_DIV, OpType.FLOOR_MOD, OpType.FMOD, OpType.POW, OpType.SQUARED_DIFFERENCE,
        OpType.MAXIMUM, OpType.MINIMUM, OpType.EQUAL, OpType.NOT_EQUAL, OpType.GREATER, OpType.GREATER_EQUAL,
        OpType.LESS, OpType.LESS_EQUAL, OpType.LOGICAL_AND, OpType.LOGICAL_OR, OpType.PRELU)) {
      emitters.put(t, new BinaryMathEmitter(t));
    }
    // int32/int64 ADD, SUB, MUL here; every other dtype stays with the existing emitter.
    for (OpType t : List.of(OpType.ADD, OpType.SUB, OpType.MUL)) {
      emitters.put(t, new ByInputType(Set.of(DType.INT32, DType.INT64), new BinaryMathEmitter(t), emitters.get(t)));
    }
    // The 16x8 scheme: ops with an int16 tensor go to Int16Emitter.
    for (OpType t : List.of(OpType.ADD, OpType.SUB, OpType.MUL, OpType.QUANTIZE, OpType.DEQUANTIZE, OpType.LEAKY_RELU)) {
      emitters.put(t, new ByPredicate(Int16Emitter::involvesInt16, new Int16Emitter(t), emitters.get(t)));
    }
    // SOFTMAX by its input: int16 -> int16 is the 16x8 kernel, int8 -> int16 the int8 one with a 16-bit output
    emitters.put(OpType.SOFTMAX, new ByPredicate(op -> op.input(0) != null && op.input(0).dtype() == DType.INT16,
        new Int16Emitter(OpType.SOFTMAX), emitters.get(OpType.SOFTMAX)));
    emitters.put(OpType.SELECT_V2, new SelectEmitter());
    emitters.put(OpType.CAST, new CastEmitter());
    emitters.put(OpType.ADD_N, new AddNEmitter());
    emitters.put(OpType.FILL, new FillEmitter());
    emitters.put(OpType.LOG_SOFTMAX, new LogSoftmaxEmitter());
    emitters.put(OpType.INT_ARITH, new IntArithEmitter());
  }

  /** The C name suffix of an element type: f32, s8, u8, i16, i32, i64, b. */
  static String suffix(DType t) {
    return switch (t) {
      case FLOAT32 -> "f32";
      case INT8 -> "s8";
      case UINT8 -> "u8";
      case INT16 -> "i16";
      case INT32 -> "i32";
      case INT64 -> "i64";
      case BOOL -> "b";
    };
  }

  /** Refuses a dtype outside {@code allowed}, naming what would work. */
  static void requireDType(Op op, Tensor t, String role, Set<DType> allowed) {
    if (!allowed.contains(t.dtype())) {
      throw unsupported(op, role + " '" + t.name() + "' is " + t.dtype() + "; Kiln compiles " + op.type() + " on "
          + allowed.stream().sorted().map(DType::toString).collect(Collectors.joining(", "))
          + " (the types TFLite's reference kernel runs)");
    }
  }

  static void requireSameDType(Op op, Tensor a, Tensor b, String roleA, String roleB) {
    if (a.dtype() != b.dtype()) {
      throw unsupported(op, roleA + " '" + a.name() + "' is " + a.dtype() + " but " + roleB + " '" + b.name() + "' is "
          + b.dtype() + "; " + op.type() + " needs both of one type");
    }
  }

  /** Sends ops matching {@code test} to {@code primary}, all others to {@code fallback}. */
  record ByPredicate(java.util.function.Predicate<Op> test, KernelEmitter primary, KernelEmitter fallback)
      implements KernelEmitter {
    private KernelEmitter pick(Op op) { return test.test(op) ? primary : fallback; }

    @Override public void check(Op op) { pick(op).check(op); }

    @Override public void emit(Op op, KernelContext ctx) { pick(op).emit(op, ctx); }

    @Override public int scratchBytes(Op op) { return pick(op).scratchBytes(op); }
  }

  /** Sends ops whose first input has one of {@code types} to {@code primary}, all others to {@code fallback}. */
  record ByInputType(Set<DType> types, KernelEmitter primary, KernelEmitter fallback) implements KernelEmitter {
    private KernelEmitter pick(Op op) {
      Tensor in = op.input(0);
      return in != null && types.contains(in.dtype()) || fallback == null ? primary : fallback;
    }

    @Override public void check(Op op) { pick(op).check(op); }

    @Override public void emit(Op op, KernelContext ctx) { pick(op).emit(op, ctx); }

    @Override public int scratchBytes(Op op) { return pick(op).scratchBytes(op); }
  }
}
