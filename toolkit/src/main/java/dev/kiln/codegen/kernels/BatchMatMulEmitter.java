package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.shape;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * BATCH_MATMUL (TF 2.21 reference_ops::BatchMatMul): x [..., R, D] (or [..., D, R] with adj_x)
 * times y [..., D, C] (or [..., C, D] with adj_y); the batch axes (rank 2 to 5) broadcast numpy
 * style. Either input may be a constant or a run-time tensor. float32: {@code total = 0.0f}, k
 * ascending. int8 (per-tensor, as TFLite requires): int32 sum of (x - z_x)(y - z_y), then
 * {@code MBQM(sum, M) + z_out} with {@code M = f64(s_x) * f64(s_y) / f64(s_out)}, clamped to int8
 * (the op has no fused activation). The adjoints and the broadcast become strides and per-batch
 * matrix offsets, so the kernel never transposes or copies.
 */
final class BatchMatMulEmitter implements KernelEmitter {
  private record Layout(Tensor x, Tensor y, Tensor out, int rows, int cols, int depth, int[] xBase, int[] yBase,
                        int xRowStride, int xDepthStride, int yColStride, int yDepthStride) {}

  private Layout layout(Op op) {
    NnSupport.requireOneOutput(op);
    Options.BatchMatMul o = op.options(Options.BatchMatMul.class);
    Tensor x = NnSupport.requireInput(op, 0, "x");
    Tensor y = NnSupport.requireInput(op, 1, "y");
    Tensor out = op.output();
    if (x.rank() < 2 || y.rank() < 2 || x.rank() > 5 || y.rank() > 5) {
      throw unsupported(op, "inputs " + shape(x) + " and " + shape(y) + " must have rank 2 to 5");
    }
    int xr = x.dim(-2);
    int xc = x.dim(-1);
    int yr = y.dim(-2);
    int yc = y.dim(-1);
    int rows = o.adjX() ? xc : xr;
    int depth = o.adjX() ? xr : xc;
    int depthY = o.adjY() ? yc : yr;
    int cols = o.adjY() ? yr : yc;
    if (depth != depthY) {
      throw unsupported(op, "x " + shape(x) + (o.adjX() ? " (adjoint)" : "") + " and y " + shape(y) + (o.adjY() ? " (adjoint)" : "")
          + " do not agree on the summed dimension (" + depth + " vs " + depthY + ")");
    }
    int rank = Math.max(x.rank(), y.rank());
    if (out.rank() != rank || out.dim(-2) != rows || out.dim(-1) != cols) {
      throw unsupported(op, "the output " + shape(out) + " is not [..., " + rows + ", " + cols + "]");
    }
    int batchRank = rank - 2;
    int batches = 1;
    for (int d = 0; d < batchRank; d++) batches *= out.dim(d);
    // per-batch matrix offsets under broadcasting
    int[] xBase = new int[batches];
    int[] yBase = new int[batches];
    for (int b = 0; b < batches; b++) {
      int rest = b;
      long xo = 0;
      long yo = 0;
      long xStride = (long) xr * xc;
      long yStride = (long) yr * yc;
      for (int d = batchRank - 1; d >= 0; d--) {
        int od = out.dim(d);
        int i = rest % od;
        rest /= od;
        int xd = d - (rank - x.rank());
        int yd = d - (rank - y.rank());
        int xDim = xd >= 0 ? x.dim(xd) : 1;
        int yDim = yd >= 0 ? y.dim(yd) : 1;
        if ((xDim != od && xDim != 1) || (yDim != od && yDim != 1)) {
          throw unsupported(op, "batch dimensions of " + shape(x) + " and " + shape(y) + " do not broadcast to " + shape(out));
        }
        if (xDim != 1) xo += i * xStride;
        if (yDim != 1) yo += i * yStride;
        xStride *= xDim;
        yStride *= yDim;
      }
      xBase[b] = Math.toIntExact(xo);
      yBase[b] = Math.toIntExact(yo);
    }
    DType dx = x.dtype();
    // family: dtypes (tfl-dtypes): int16 x int16 -> int16 too (16x8)
    if (!(dx == DType.FLOAT32 || dx == DType.INT8 || dx == DType.INT16) || y.dtype() != dx || out.dtype() != dx) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles float32, int8 and int16 BATCH_MATMUL");
    }
    // x(i, k): adj_x stores x as [D, R]
    int xRowStride = o.adjX() ? 1 : xc;
    int xDepthStride = o.adjX() ? xc : 1;
    // y(k, j): adj_y stores y as [C, D]
    int yColStride = o.adjY() ? yc : 1;
    int yDepthStride = o.adjY() ? 1 : yc;
    return new Layout(x, y, out, rows, cols, depth, xBase, yBase, xRowStride, xDepthStride, yColStride, yDepthStride);
  }

  @Override public void check(Op op) {
    Layout l = layout(op);
    if (l.x.dtype() == DType.INT8 && op.options(Options.BatchMatMul.class).requantize() == Options.Requantize.ONNXRUNTIME) {
      NnSupport.perTensor(op, l.x, "x");
      NnSupport.perTensor(op, l.y, "y");
      NnSupport.perTensor(op, l.out, "the output");
      if ((long) l.depth * 255 * 255 >= 1L << 31) {
        throw unsupported(op, "sums " + l.depth + " products of 8-bit codes, which can overflow onnxruntime's int32 accumulator");
      }
      return;
    }
    if (l.x.dtype() == DType.INT8) multiplier(op, l);
    if (l.x.dtype() == DType.INT16) multiplier16(op, l);
  }

  /**
   * family: dtypes (tfl-dtypes). int16 (TFLite's EvalInt16: zero points 0, int64 sums, the 64-bit
   * MultiplyByQuantizedMultiplier, clamped to int16): the multiplier as for int8.
   */
  private FixedPoint.Multiplier multiplier16(Op op, Layout l) {
    float sx = Int16Emitter.int16(op, l.x, "x").scale();
    float sy = Int16Emitter.int16(op, l.y, "y").scale();
    float so = Int16Emitter.int16(op, l.out, "the output").scale();
    FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) sx * (double) sy / (double) so);
    if (l.depth >= 1 << 17) {
      throw unsupported(op, "sums " + l.depth + " products of int16 codes; Kiln's 64-bit requantization takes fewer than 2^17");
    }
    if (m.shift() > 14 || m.shift() < -31) {
      throw unsupported(op, "the scale ratio s_x * s_y / s_out needs a shift of " + m.shift() + "; TFLite's 64-bit "
          + "requantization takes -31 to 14");
    }
    return m;
  }

  private FixedPoint.Multiplier multiplier(Op op, Layout l) {
    Quantization qx = NnSupport.perTensor(op, l.x, "x");
    Quantization qy = NnSupport.perTensor(op, l.y, "y");
    Quantization qo = NnSupport.perTensor(op, l.out, "the output");
    FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) qx.scale() * (double) qy.scale() / (double) qo.scale());
    long bound = (long) l.depth * NnSupport.maxAbsInput(qx.zeroPoint()) * NnSupport.maxAbsInput(qy.zeroPoint());
    if (bound >= 1L << 31) {
      throw unsupported(op, "sums " + l.depth + " products of int8 codes, which can overflow the reference's int32 accumulator");
    }
    NnSupport.requireShiftFits(op, new FixedPoint.Multiplier[] {m}, new long[] {bound});
    return m;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Layout l = layout(op);
    NnSupport.Init init = new NnSupport.Init().put("batches", l.xBase.length).put("rows", l.rows).put("cols", l.cols)
        .put("depth", l.depth).raw("x_base", ctx.tableI32("bmm_x_base", l.xBase)).raw("y_base", ctx.tableI32("bmm_y_base", l.yBase))
        .put("x_row_stride", l.xRowStride).put("x_depth_stride", l.xDepthStride)
        .put("y_col_stride", l.yColStride).put("y_depth_stride", l.yDepthStride);
    String fn = "kiln_batch_matmul_f32";
    if (l.x.dtype() == DType.INT8 && op.options(Options.BatchMatMul.class).requantize() == Options.Requantize.ONNXRUNTIME) {
      // onnxruntime's QLinearMatMul: (s_x * s_y) / s_out in float32, applied to float32(acc) (kiln_onnx.c)
      float scale = l.x.quantization().scale() * l.y.quantization().scale() / l.out.quantization().scale();
      init.put("x_offset", -l.x.quantization().zeroPoint()).put("y_offset", -l.y.quantization().zeroPoint())
          .put("output_offset", l.out.quantization().zeroPoint()).put("act_min", -128).put("act_max", 127)
          .put("out_multiplier", 0).put("out_shift", 0);
      String params = ctx.constant("kiln_bmm_params", "bmm", init.toString());
      ctx.body().line(NnSupport.format("kiln_qlinear_batch_matmul_s8(&%s, %s, %s, %s, %s);", params,
          dev.kiln.codegen.CLiterals.f32(scale), ctx.data(l.x), ctx.data(l.y), ctx.data(l.out)));
      return;
    }
    if (l.x.dtype() == DType.INT8) {
      FixedPoint.Multiplier m = multiplier(op, l);
      init.put("x_offset", -l.x.quantization().zeroPoint()).put("y_offset", -l.y.quantization().zeroPoint())
          .put("output_offset", l.out.quantization().zeroPoint()).put("act_min", -128).put("act_max", 127)
          .put("out_multiplier", m.multiplier()).put("out_shift", m.shift());
      fn = "kiln_batch_matmul_s8";
    }
    if (l.x.dtype() == DType.INT16) {
      FixedPoint.Multiplier m = multiplier16(op, l);
      init.put("x_offset", 0).put("y_offset", 0).put("output_offset", 0).put("act_min", -32768).put("act_max", 32767)
          .put("out_multiplier", m.multiplier()).put("out_shift", m.shift());
      fn = "kiln_batch_matmul_s16";
    }
    String params = ctx.constant("kiln_bmm_params", "bmm", init.toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s, %s);", fn, params, ctx.data(l.x), ctx.data(l.y), ctx.data(l.out)));
  }
}
