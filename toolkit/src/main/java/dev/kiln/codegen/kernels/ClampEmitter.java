package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireArity;
import static dev.kiln.codegen.kernels.ElementwiseKernels.requireSameShape;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * CLAMP {@code min(max(x, lo), hi)} (ONNX Clip with bounds that are not a RELU or RELU6; {@code lo >
 * hi} gives {@code hi} everywhere, NaN stays NaN). float32 calls {@code kiln_clamp_array_f32}; int8
 * is a 256-entry table computed here the way the ONNX graph reads it: dequantize, clamp in float32,
 * quantize with round-half-to-even and saturation.
 */
final class ClampEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    ElementwiseKernels.count(op, in);
    Options.Clamp o = op.options(Options.Clamp.class);
    if (Float.isNaN(o.min()) || Float.isNaN(o.max())) throw unsupported(op, "a bound is NaN: " + o);
    if (in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32) return;
    if (in.dtype() != DType.INT8 || out.dtype() != DType.INT8) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles CLAMP int8 -> int8 and float32 -> float32");
    }
    perTensor(op, in, "input");
    perTensor(op, out, "output");
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    Options.Clamp o = op.options(Options.Clamp.class);
    int n = ElementwiseKernels.count(op, in);
    if (in.dtype() == DType.FLOAT32) {
      ctx.body().line("kiln_clamp_array_f32(" + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ", " + bound(o.min()) + ", "
          + bound(o.max()) + ");");
      return;
    }
    String table = ctx.tableI8("clamp" + op.index() + "_lut", table(in.quantization(), out.quantization(), o.min(), o.max()));
    ctx.body().line("kiln_lut_s8(" + table + ", " + ctx.data(in) + ", " + ctx.data(out) + ", " + n + ");");
  }

  private static String bound(float v) {
    if (v == Float.POSITIVE_INFINITY) return "FLT_MAX";
    if (v == Float.NEGATIVE_INFINITY) return "-FLT_MAX";
    return CLiterals.f32(v);
  }

  /** Entry {@code code + 128}: the output code of input {@code code}. */
  static byte[] table(Quantization in, Quantization out, float lo, float hi) {
    byte[] t = new byte[256];
    for (int code = -128; code <= 127; code++) {
      float r = in.scale() * (float) (code - in.zeroPoint());
      r = lo > r ? lo : r;
      r = hi < r ? hi : r;
      double q = Math.rint(r / out.scale()) + out.zeroPoint();
      t[code + 128] = (byte) Math.max(-128, Math.min(127, q));
    }
    return t;
  }
}
