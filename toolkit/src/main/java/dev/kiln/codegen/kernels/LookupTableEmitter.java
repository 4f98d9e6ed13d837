package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.Locale;
import java.util.function.IntUnaryOperator;

/**
 * LOGISTIC, TANH, RELU and RELU6. On int8 the output code depends only on the input code, so
 * Prepare evaluates TFLite's arithmetic for all 256 codes and Eval is a table lookup: LOGISTIC and
 * TANH with TFLite's own float32 table scheme (tflite-numerics.md 7.1, 7.2), RELU and RELU6 with
 * the MultiplyByQuantizedMultiplier rescale of 7.3. float32 versions call expf/tanhf or clamp.
 */
final class LookupTableEmitter implements KernelEmitter {
  private final OpType type;

  LookupTableEmitter(OpType type) {
    if (type != OpType.LOGISTIC && type != OpType.TANH && type != OpType.RELU && type != OpType.RELU6) {
      throw new IllegalArgumentException(type.toString());
    }
    this.type = type;
  }

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    ElementwiseKernels.count(op, in);
    if (in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32) return;
    if (in.dtype() != DType.INT8 || out.dtype() != DType.INT8) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles " + type
          + " int8 -> int8 and float32 -> float32");
    }
    perTensor(op, in, "input");
    Quantization qo = perTensor(op, out, "output");
    if (type == OpType.LOGISTIC && qo.scale() != 1f / 256) {
      throw unsupported(op, "the int8 output must have scale 1/256 (TFLite requires it exactly), found " + qo
          + "; convert the model with the TFLite converter's default LOGISTIC quantization");
    }
    table(op);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int n = ElementwiseKernels.count(op, in);
    String name = type.name().toLowerCase(Locale.ROOT);
    if (in.dtype() == DType.FLOAT32) {
      String args = ctx.data(in) + ", " + ctx.data(out) + ", " + n;
      switch (type) {
        case RELU -> ctx.body().line("kiln_clamp_array_f32(" + args + ", 0.0f, FLT_MAX);");
        case RELU6 -> ctx.body().line("kiln_clamp_array_f32(" + args + ", 0.0f, 6.0f);");
        default -> ctx.body().line("kiln_" + name + "_f32(" + args + ");");
      }
      return;
    }
    String table = ctx.tableI8(name + op.index() + "_lut", table(op));
    ctx.body().line("kiln_lut_s8(" + table + ", " + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ");");
  }

  /** The int8 table: entry {@code code + 128} holds the output code of input {@code code}. */
  byte[] table(Op op) {
    Quantization qi = op.input(0).quantization();
    Quantization qo = op.output().quantization();
    float sIn = qi.scale();
    int zIn = qi.zeroPoint();
    float sOut = qo.scale();
    int zOut = qo.zeroPoint();
    IntUnaryOperator f = switch (type) {
      case LOGISTIC -> floatTable(sIn, zIn, sOut, zOut, r -> 1f / (1f + expf(-r)));
      case TANH -> floatTable(sIn, zIn, sOut, zOut, LookupTableEmitter::tanhf);
      case RELU, RELU6 -> relu(op, sIn, zIn, sOut, zOut, type == OpType.RELU6);
      default -> throw new IllegalStateException(type.toString());
    };
    return signedTable(f);
  }

  /** The 256 outputs of {@code f} over int8 codes -128..127, indexed by code + 128. */
  static byte[] signedTable(IntUnaryOperator f) {
    byte[] t = new byte[256];
    for (int code = -128; code <= 127; code++) t[code + 128] = (byte) f.applyAsInt(code);
    return t;
  }

  interface FloatFn { float apply(float x); }

  /**
   * TFLite's LUTPopulate for int8: every step in float32, rounding half away from zero. C's
   * {@code expf}/{@code tanhf} are approximated by the double functions rounded to float (Java has
   * no float versions; see tflite-numerics.md 2.5 for how rarely that differs).
   */
  static IntUnaryOperator floatTable(float sIn, int zIn, float sOut, int zOut, FloatFn transform) {
    float inverseScale = 1f / sOut;
    return code -> {
      float dequantized = sIn * (float) (code - zIn);
      float transformed = transform.apply(dequantized);
      float rescaled = (float) FixedPoint.rhaz(transformed * inverseScale);
      int quantized = (int) (rescaled + (float) zOut);
      return Math.max(Math.min(127, quantized), -128);
    };
  }

  static float expf(float x) { return (float) Math.exp(x); }

  static float tanhf(float x) { return (float) Math.tanh(x); }

  /** RELU / RELU6 int8 (section 7.3): MBQM by the float32 ratio s_in / s_out, then the clamp. */
  static IntUnaryOperator relu(Op op, float sIn, int zIn, float sOut, int zOut, boolean six) {
    float ratio = sIn / sOut;
    Multiplier m = FixedPoint.quantizeMultiplier(ratio);
    requireNoOverflow(op, m, zIn);
    int lo = Math.max(-128, zOut + FixedPoint.rhaz(0f / sOut));
    int hi = six ? Math.min(127, zOut + FixedPoint.rhaz(6f / sOut)) : 127;
    return code -> {
      int v = zOut + FixedPoint.mbqm(code - zIn, m);
      v = Math.max(lo, v);
      return Math.min(hi, v);
    };
  }

  /** Rejects a left shift that overflows int32 for some code (undefined behaviour in TFLite). */
  static void requireNoOverflow(Op op, Multiplier m, int zIn) {
    int left = Math.max(m.shift(), 0);
    long maxAbs = Math.max(127 - zIn, zIn + 128);
    if (left > 30 || (maxAbs << left) >= (1L << 31)) {
      throw unsupported(op, "the input/output scale ratio needs a left shift of " + left
          + ", which overflows 32-bit arithmetic (TFLite's result would be undefined); check the quantization parameters");
    }
  }
}
