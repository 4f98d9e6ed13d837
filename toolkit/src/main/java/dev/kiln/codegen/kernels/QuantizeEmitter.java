package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.FixedPoint.Multiplier;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * QUANTIZE (tflite-numerics.md 8.3): float32 -> int8/uint8 divides by the scale in float32 and
 * rounds half away from zero; int8/uint8 -> int8/uint8 requantizes with
 * MultiplyByQuantizedMultiplier by {@code f64(s_in)/f64(s_out)}, evaluated at compile time for all
 * 256 input codes into a table. With {@code Options.Quantize(halfToEven)} (ONNX QuantizeLinear)
 * ties round to even, and requantization is ONNX's DequantizeLinear then QuantizeLinear in float32.
 */
final class QuantizeEmitter implements KernelEmitter {

  private static boolean is8(DType t) { return t == DType.INT8 || t == DType.UINT8; }

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    ElementwiseKernels.count(op, in);
    if (!is8(out.dtype()) || !(in.dtype() == DType.FLOAT32 || is8(in.dtype()))) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles QUANTIZE from float32, int8 or uint8 to int8 or uint8");
    }
    perTensor(op, out, "output");
    if (is8(in.dtype())) {
      perTensor(op, in, "input");
      table(op);
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int n = ElementwiseKernels.count(op, in);
    Quantization qo = out.quantization();
    if (in.dtype() == DType.FLOAT32) {
      String fn = out.dtype() == DType.INT8 ? "kiln_quantize_f32_s8" : "kiln_quantize_f32_u8";
      if (halfToEven(op)) fn = fn.replace("kiln_quantize_", "kiln_quantize_half_even_");
      ctx.body().line(fn + "(" + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ", " + CLiterals.f32(qo.scale()) + ", "
          + qo.zeroPoint() + ");");
      return;
    }
    String table = ctx.tableI8("quantize" + op.index() + "_lut", table(op));
    if (in.dtype() == DType.INT8 && out.dtype() == DType.INT8) {
      ctx.body().line("kiln_lut_s8(" + table + ", " + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ");");
    } else {
      ctx.body().line("kiln_lut_u8((const uint8_t *)" + table + ", (const uint8_t *)" + ctx.data(in) + ", (uint8_t *)"
          + ctx.data(out) + ", " + n + ");");
    }
  }

  /**
   * The requantization table. int8 -> int8: indexed by code + 128 (for kiln_lut_s8). With a uint8
   * side: indexed by the raw input byte, holding the raw output byte (for kiln_lut_u8).
   */
  byte[] table(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    Quantization qi = in.quantization();
    Quantization qo = out.quantization();
    if (halfToEven(op)) return floatTable(in.dtype(), out.dtype(), qi, qo);
    Multiplier m = FixedPoint.quantizeMultiplier((double) qi.scale() / (double) qo.scale());
    LookupTableEmitter.requireNoOverflow(op, m, in.dtype() == DType.UINT8 ? qi.zeroPoint() - 128 : qi.zeroPoint());
    int zIn = qi.zeroPoint();
    int zOut = qo.zeroPoint();
    int min = out.dtype() == DType.INT8 ? -128 : 0;
    int max = out.dtype() == DType.INT8 ? 127 : 255;
    byte[] t = new byte[256];
    for (int raw = 0; raw < 256; raw++) {
      int code = in.dtype() == DType.INT8 ? (byte) raw : raw;
      int v = FixedPoint.mbqm(code - zIn, m) + zOut;
      v = Math.max(Math.min(v, max), min);
      int index = in.dtype() == DType.INT8 && out.dtype() == DType.INT8 ? code + 128 : raw;
      t[index] = (byte) v;
    }
    return t;
  }

  /** True for ONNX QuantizeLinear semantics (ties to even); TFLite's otherwise. */
  static boolean halfToEven(Op op) {
    return op.options() instanceof dev.kiln.ir.Options.Quantize q && q.halfToEven();
  }

  /**
   * ONNX requantization of 8-bit codes: {@code (float)(code - z_in) * s_in}, divided by {@code s_out}
   * in float32, rounded half to even, plus {@code z_out}, saturated; indexed like {@link #table}.
   */
  static byte[] floatTable(DType inType, DType outType, Quantization qi, Quantization qo) {
    int min = outType == DType.INT8 ? -128 : 0;
    int max = outType == DType.INT8 ? 127 : 255;
    byte[] t = new byte[256];
    for (int raw = 0; raw < 256; raw++) {
      int code = inType == DType.INT8 ? (byte) raw : raw;
      float real = (float) (code - qi.zeroPoint()) * qi.scale();
      double v = Math.rint(real / qo.scale()) + qo.zeroPoint();
      int index = inType == DType.INT8 && outType == DType.INT8 ? code + 128 : raw;
      t[index] = (byte) (int) Math.max(min, Math.min(max, v));
    }
    return t;
  }
}
