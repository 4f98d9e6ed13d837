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
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/** DEQUANTIZE int8/uint8 -> float32: {@code scale * (float)(q - zero_point)} (tflite-numerics.md 8.4). */
final class DequantizeEmitter implements KernelEmitter {

  @Override public void check(Op op) {
    requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireSameShape(op, in, out);
    ElementwiseKernels.count(op, in);
    if (!(in.dtype() == DType.INT8 || in.dtype() == DType.UINT8) || out.dtype() != DType.FLOAT32) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles DEQUANTIZE from int8 or uint8 to float32");
    }
    perTensor(op, in, "input");
  }

  @Override public void emit(Op op, KernelContext ctx) {
    check(op);
    Tensor in = op.input(0);
    Quantization q = in.quantization();
    String fn = in.dtype() == DType.INT8 ? "kiln_dequantize_s8_f32" : "kiln_dequantize_u8_f32";
    ctx.body().line(fn + "(" + ctx.data(in) + ", " + ctx.data(op.output()) + ", " + ElementwiseKernels.count(op, in) + ", "
        + CLiterals.f32(q.scale()) + ", " + q.zeroPoint() + ");");
  }
}
