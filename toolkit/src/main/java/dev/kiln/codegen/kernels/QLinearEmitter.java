package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.dtypes;
import static dev.kiln.codegen.kernels.ElementwiseKernels.perTensor;
import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * ADD and MUL with {@link Options.QLinear}: onnxruntime's QLinearAdd and QLinearMul (its x86-64 MLAS
 * kernels, which its QDQ fusion runs for DequantizeLinear -> Add/Mul -> QuantizeLinear), bit-exact.
 * QLinearAdd (AVX2): {@code rne(fma(a, s_a/s_c, fma(b, s_b/s_c, fixed)))} with {@code fixed = z_c -
 * fma(s_a/s_c, z_a, (s_b/s_c) * z_b)}, every step float32 (a, b the codes; the operands exchanged when
 * onnxruntime swapped them). QLinearMul (SSE2): {@code rne(float32((a - z_a) * (b - z_b)) * (s_a * s_b
 * / s_c) + z_c)}. Both saturate to the 8-bit range. The float32 constants are computed here, once,
 * with Java's float arithmetic (IEEE single precision, Math.fma fused) exactly as onnxruntime does.
 */
final class QLinearEmitter {
  private QLinearEmitter() {}

  static void check(Op op) {
    ElementwiseKernels.requireArity(op, 2);
    if (op.type() != OpType.ADD && op.type() != OpType.MUL) {
      throw unsupported(op, "onnxruntime's QLinear arithmetic is compiled for ADD and MUL only");
    }
    for (Tensor t : new Tensor[] {op.input(0), op.input(1), op.output()}) {
      if (t.dtype() != DType.INT8) {
        throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; onnxruntime's QLinear " + op.type()
            + " is compiled on int8 codes (uint8 stored as int8 minus 128)");
      }
    }
    perTensor(op, op.input(0), "input 1");
    perTensor(op, op.input(1), "input 2");
    perTensor(op, op.output(), "output");
    try {
      BroadcastPlan.of(op.input(0).shape(), op.input(1).shape(), op.output().shape());
    } catch (IllegalArgumentException e) {
      throw unsupported(op, e.getMessage());
    }
    ElementwiseKernels.count(op, op.output());
  }

  static void emit(Op op, KernelContext ctx) {
    check(op);
    Options.QLinear o = op.options(Options.QLinear.class);
    Tensor a = op.input(0);
    Tensor b = op.input(1);
    Tensor out = op.output();
    int offset = o.uint8() ? 128 : 0;
    Quantization qa = a.quantization();
    Quantization qb = b.quantization();
    Quantization qc = out.quantization();
    // zero points in the domain onnxruntime computes in (uint8 codes for uint8 tensors)
    int za = (int) qa.zeroPoint() + offset;
    int zb = (int) qb.zeroPoint() + offset;
    int zc = (int) qc.zeroPoint() + offset;
    String bc = ".bc = " + BroadcastPlan.of(a.shape(), b.shape(), out.shape()).initializer();
    String name = op.type().name().toLowerCase(java.util.Locale.ROOT);
    String args = ctx.data(a) + ", " + ctx.data(b) + ", " + ctx.data(out);
    if (op.type() == OpType.ADD) {
      float r1 = qa.scale() / qc.scale();
      float r2 = qb.scale() / qc.scale();
      // onnxruntime's first operand is the outer multiply-add; swapped, that is input 2
      float fixed = o.swapped() ? (float) zc - Math.fma(r2, (float) zb, r1 * (float) za)
          : (float) zc - Math.fma(r1, (float) za, r2 * (float) zb);
      String p = ctx.constant("kiln_qlinear_add_params", "qlinear_" + name + op.index(), ElementwiseKernels.initializer(bc,
          ".code_offset = " + offset + ", .ratio1 = " + CLiterals.f32(r1) + ", .ratio2 = " + CLiterals.f32(r2),
          ".fixed = " + CLiterals.f32(fixed) + ", .x1_inner = " + (o.swapped() ? 1 : 0)));
      ctx.body().line("kiln_qlinear_add_s8(&" + p + ", " + args + ");");
    } else {
      float ratio = qa.scale() * qb.scale() / qc.scale();
      String p = ctx.constant("kiln_qlinear_mul_params", "qlinear_" + name + op.index(), ElementwiseKernels.initializer(bc,
          ".code_offset = " + offset + ", .input1_zero = " + za + ", .input2_zero = " + zb + ", .output_zero = " + zc,
          ".ratio = " + CLiterals.f32(ratio)));
      ctx.body().line("kiln_qlinear_mul_s8(&" + p + ", " + args + ");");
    }
  }
}
