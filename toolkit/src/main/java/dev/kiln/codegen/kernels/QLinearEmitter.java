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
 * AVERAGE_POOL_2D with {@link Options.QLinearPool}: QLinearGlobalAveragePool and QLinearAveragePool;
 * SOFTMAX with {@link Options.QLinearSoftmax}: QLinearSoftmax ({@code kiln_onnx.c}).
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

  /** Input and output int8 codes with one scale and zero point each; {@code kernels} ("QLinearSoftmax is") names onnxruntime's. */
  private static void requireInt8Codes(Op op, Tensor in, Tensor out, String kernels) {
    if (in.dtype() != DType.INT8 || out.dtype() != DType.INT8) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; onnxruntime's " + kernels + " compiled on int8 codes");
    }
    perTensor(op, in, "input");
    perTensor(op, out, "output");
  }

  static void checkPool(Op op) {
    Options.QLinearPool o = op.options(Options.QLinearPool.class);
    NnSupport.requireOneOutput(op);
    Tensor in = NnSupport.requireImageInput(op);
    Tensor out = op.output();
    requireInt8Codes(op, in, out, "QLinear pools are");
    Options.Pool p = o.pool();
    if (out.dim(0) != in.dim(0) || out.dim(3) != in.dim(3) || p.filterH() < 1 || p.filterW() < 1 || p.strideH() < 1
        || p.strideW() < 1 || p.padding().top() < 0 || p.padding().left() < 0 || p.padding().top() >= p.filterH()
        || p.padding().left() >= p.filterW()) {
      throw unsupported(op, "has an inconsistent window " + p + " for " + NnSupport.shape(in) + " -> " + NnSupport.shape(out));
    }
    if (o.global() && (out.dim(1) != 1 || out.dim(2) != 1 || (long) in.dim(1) * in.dim(2) >= (1 << 24) / 256)) {
      throw unsupported(op, "a global average pool needs a 1x1 output and fewer than 65,536 pixels (so that its int32 sum"
          + " converts to float32 exactly)");
    }
  }

  static void emitPool(Op op, KernelContext ctx) {
    checkPool(op);
    Options.QLinearPool o = op.options(Options.QLinearPool.class);
    Options.Pool p = o.pool();
    Tensor in = op.input(0);
    Tensor out = op.output();
    int offset = o.uint8() ? 128 : 0;
    Quantization qx = in.quantization();
    Quantization qy = out.quantization();
    // onnxruntime: ScaleInput / (ScaleOutput * (float)ImageSize), float32
    float global = qx.scale() / (qy.scale() * (float) (in.dim(1) * in.dim(2)));
    NnSupport.Init init = new NnSupport.Init()
        .put("batches", in.dim(0)).put("in_h", in.dim(1)).put("in_w", in.dim(2)).put("channels", in.dim(3))
        .put("out_h", out.dim(1)).put("out_w", out.dim(2))
        .put("filter_h", p.filterH()).put("filter_w", p.filterW())
        .put("stride_h", p.strideH()).put("stride_w", p.strideW())
        .put("pad_top", p.padding().top()).put("pad_left", p.padding().left())
        .put("count_include_pad", o.countIncludePad() ? 1 : 0).put("code_offset", offset)
        .put("input_zero", qx.zeroPoint() + offset).put("output_zero", qy.zeroPoint() + offset)
        .put("input_scale", qx.scale()).put("output_scale", qy.scale()).put("global_scale", global);
    String params = ctx.constant("kiln_qlinear_pool_params", "qlinear_pool", init.toString());
    String fn = o.global() ? "kiln_qlinear_global_avg_pool_s8" : "kiln_qlinear_avg_pool_s8";
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s);", fn, params, ctx.data(in), ctx.data(out)));
  }

  static void checkSoftmax(Op op) {
    ElementwiseKernels.requireArity(op, 1);
    Tensor in = op.input(0);
    Tensor out = op.output();
    requireInt8Codes(op, in, out, "QLinearSoftmax is");
    ElementwiseKernels.requireSameShape(op, in, out);
    if (in.shape().length == 0 || in.dim(in.shape().length - 1) < 1) {
      throw unsupported(op, "needs a last axis of at least one element");
    }
    ElementwiseKernels.count(op, in);
  }

  static void emitSoftmax(Op op, KernelContext ctx) {
    checkSoftmax(op);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int depth = in.dim(in.shape().length - 1);
    int rows = (int) (in.elements() / depth);
    float outScale = (float) Math.floor(1.0f / out.quantization().scale());
    String table = ctx.tableF32("qlinear_softmax_exp", softmaxTable(in.quantization().scale(), depth));
    String p = ctx.constant("kiln_qlinear_softmax_params", "qlinear_softmax", ElementwiseKernels.initializer(
        ".rows = " + rows + ", .depth = " + depth + ", .output_zero = " + out.quantization().zeroPoint(),
        ".output_scale = " + CLiterals.f32(outScale) + ", .table = " + table));
    ctx.body().line("kiln_qlinear_softmax_s8(&" + p + ", " + ctx.data(in) + ", " + ctx.data(out) + ");");
  }

  /**
   * QLinearSoftmax's table, entry k = code - row max + 255: {@code float32(exp((k - 255 + shift) * s_x))}
   * with {@code shift = max(0, log(FLT_MAX / depth) - 5) / s_x} in double (the headroom that keeps a
   * row's float32 sum finite), as onnxruntime builds it.
   */
  static float[] softmaxTable(float inputScale, int depth) {
    double shift = StrictMath.log(Float.MAX_VALUE / (float) depth);
    shift = Math.max(0.0, shift - 5) / inputScale;
    float[] t = new float[256];
    for (int k = 0; k < 256; k++) t[k] = (float) StrictMath.exp(((double) k - 255 + shift) * (double) inputScale);
    return t;
  }
}
