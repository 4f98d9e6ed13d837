package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.MathKernels.requireDType;
import static dev.kiln.codegen.kernels.MathKernels.requireSameDType;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Locale;
import java.util.Set;

/**
 * One-input elementwise ops: ABS NEG SQRT RSQRT SQUARE EXP LOG SIN COS CEIL FLOOR ROUND ELU HARD_SWISH
 * GELU RELU_N1_TO_1 LEAKY_RELU LOGICAL_NOT ZEROS_LIKE, on the types TFLite 2.21's kernels take. float32
 * calls the C math routine; int8 is a 256-entry table ({@link Int8UnaryTables}); int32/int64/bool loop in C.
 */
final class UnaryMathEmitter implements KernelEmitter {
  private static final Set<DType> F32 = Set.of(DType.FLOAT32);
  private static final Set<DType> F32_S8 = Set.of(DType.FLOAT32, DType.INT8);

  private final OpType type;

  UnaryMathEmitter(OpType type) { this.type = type; }

  /** The element types TFLite's reference kernel of this op runs (and so Kiln compiles). */
  Set<DType> types() {
    return switch (type) {
      case ABS -> Set.of(DType.FLOAT32, DType.INT8, DType.INT16, DType.INT32);
      case NEG -> Set.of(DType.FLOAT32, DType.INT8, DType.INT32, DType.INT64);
      case SQRT, RSQRT, LOG, EXP, ELU, GELU, LEAKY_RELU, HARD_SWISH, RELU_N1_TO_1 -> F32_S8;
      case LOGICAL_NOT -> Set.of(DType.BOOL);
      case ZEROS_LIKE -> Set.of(DType.FLOAT32, DType.INT32, DType.INT64);
      default -> F32;
    };
  }

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    ElementwiseKernels.count(op, in);
    requireDType(op, in, "input", types());
    requireSameDType(op, in, out, "input", "output");
    if (in.dtype() == DType.INT16) abs16(op);
    if (in.dtype() == DType.INT8 && type != OpType.NEG) {
      perTensor(op, in, "input");
      perTensor(op, out, "output");
      Int8UnaryTables.table(op);
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int n = ElementwiseKernels.count(op, in);
    String x = ctx.data(in);
    String y = ctx.data(out);
    if (type == OpType.ZEROS_LIKE) {
      ctx.body().line("kiln_zero_bytes(" + y + ", " + out.byteSize() + ");");
      return;
    }
    if (in.dtype() == DType.INT16) {
      String p = ctx.constant("kiln_abs_s16_params", "abs" + op.index(), abs16(op));
      ctx.body().line("kiln_abs_s16(&" + p + ", " + x + ", " + y + ", " + n + ");");
      return;
    }
    if (in.dtype() == DType.INT8) {
      String table = ctx.tableI8(type.name().toLowerCase(Locale.ROOT) + op.index() + "_lut", Int8UnaryTables.table(op));
      ctx.body().line("kiln_lut_s8(" + table + ", " + x + ", " + y + ", " + n + ");");
      return;
    }
    String name = type.name().toLowerCase(Locale.ROOT);
    String args = x + ", " + y + ", " + n;
    switch (type) {
      case RELU_N1_TO_1 -> ctx.body().line("kiln_clamp_array_f32(" + args + ", -1.0f, 1.0f);");
      case LEAKY_RELU -> ctx.body().line("kiln_leaky_relu_f32(" + args + ", "
          + CLiterals.f32(op.options(Options.LeakyRelu.class).alpha()) + ");");
      case GELU -> ctx.body().line((op.options(Options.Gelu.class).approximate() ? "kiln_gelu_tanh_f32(" : "kiln_gelu_f32(")
          + args + ");");
      default -> ctx.body().line("kiln_" + name + "_" + MathKernels.suffix(in.dtype()) + "(" + args + ");");
    }
  }

  /**
   * ABS int16 (elementwise.cc): quantized tensors (zero point 0) rescale by s_in/s_out (float32) unless
   * the scales are equal; an unquantized int16 tensor takes |x| wrapping, as TFLite does.
   */
  private String abs16(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    if (!in.quantization().isQuantized() && !out.quantization().isQuantized()) {
      return ElementwiseKernels.initializer(".input_zero_point = 0, .output_zero_point = 0", ".multiplier = 0, .shift = 0, .clamp = 0");
    }
    float sIn = Int16Emitter.int16(op, in, "input").scale();
    float sOut = Int16Emitter.int16(op, out, "output").scale();
    dev.kiln.compile.FixedPoint.Multiplier m = sIn == sOut ? new dev.kiln.compile.FixedPoint.Multiplier(0, 0)
        : dev.kiln.compile.FixedPoint.quantizeMultiplier(sIn / sOut);
    if (m.shift() > 15) {
      throw ElementwiseKernels.unsupported(op, "the scale ratio s_in/s_out = " + sIn / sOut
          + " needs a left shift over 15, which overflows 32-bit arithmetic; re-quantize the model");
    }
    return ElementwiseKernels.initializer(".input_zero_point = 0, .output_zero_point = 0",
        ".multiplier = " + CLiterals.i32(m.multiplier()) + ", .shift = " + m.shift() + ", .clamp = 1");
  }

  @Override public String toString() { return "UnaryMathEmitter[" + type + "]"; }
}
