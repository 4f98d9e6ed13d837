package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;

/**
 * RESIZE_BILINEAR (NHWC). Prepare computes, per output row and column, the two source indices and
 * the weight of the second, as TF 2.21's reference does per pixel: float32 with
 * ComputeInterpolationValues (float scale, floor/ceil, half-pixel offset -0.5 that may extrapolate
 * near the border), int8/int16 with ResizeBilinearInteger's 10-bit fixed-point scale. The values are
 * interpolated on the device; quantized input and output share scale and zero point.
 */
final class ResizeBilinearEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Tensor in = NnSupport.requireImageInput(op);
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, out, "the output");
    if (in.dim(0) != out.dim(0) || in.dim(3) != out.dim(3)) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " must keep the input's batch and channels " + NnSupport.shape(in));
    }
    DType t = in.dtype();
    if (t != out.dtype() || (t != DType.FLOAT32 && t != DType.INT8 && t != DType.INT16)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles RESIZE_BILINEAR for float32, int8 and int16");
    }
    if (t != DType.FLOAT32) ReduceKernels.requireSameQuantization(op, in, out);
    if ((long) Math.max(in.dim(1), in.dim(2)) * 1024 * Math.max(out.dim(1), out.dim(2)) >= Integer.MAX_VALUE) {
      throw unsupported(op, "the image is too large for the reference's 10-bit fixed-point coordinates in int32");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Resize o = op.options(Options.Resize.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    String[] y = axis(ctx, "y", in.dim(1), out.dim(1), o, in.dtype() == DType.FLOAT32);
    String[] x = axis(ctx, "x", in.dim(2), out.dim(2), o, in.dtype() == DType.FLOAT32);
    NnSupport.Init init = new NnSupport.Init().put("batches", in.dim(0)).put("in_h", in.dim(1)).put("in_w", in.dim(2))
        .put("channels", in.dim(3)).put("out_h", out.dim(1)).put("out_w", out.dim(2));
    String params = ctx.constant("kiln_resize_params", "resize", init.toString());
    ctx.body().line(NnSupport.format("kiln_resize_bilinear_%s(&%s, %s, %s, %s, %s, %s, %s, %s, %s);",
        ReduceKernels.suffix(in.dtype()), params, y[0], y[1], y[2], x[0], x[1], x[2], ctx.data(in), ctx.data(out)));
  }

  /** Tables {lower index, upper index, weight of upper} for one axis. */
  private static String[] axis(KernelContext ctx, String name, int in, int out, Options.Resize o, boolean isFloat) {
    int[] lo = new int[out];
    int[] hi = new int[out];
    if (isFloat) {
      float scale = (float) in / out;
      if (o.alignCorners() && out > 1) scale = (float) (in - 1) / (out - 1);
      float[] w = new float[out];
      for (int v = 0; v < out; v++) {
        float scaled = o.halfPixelCenters() ? ((float) v + 0.5f) * scale - 0.5f : (float) v * scale;
        lo[v] = Math.max((int) Math.floor(scaled), 0);
        hi[v] = Math.min((int) Math.ceil(scaled), in - 1);
        w[v] = scaled - (float) lo[v];
      }
      return new String[] {ctx.tableI32(name + "0", lo), ctx.tableI32(name + "1", hi), ctx.tableF32("w" + name, w)};
    }
    int scale10 = ((1 << 10) * in + out / 2) / out;
    if (o.alignCorners() && out > 1) scale10 = ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
    int[] w = new int[out];
    for (int v = 0; v < out; v++) {
      int scaled = o.halfPixelCenters() ? v * scale10 + scale10 / 2 - (1 << 9) : v * scale10;
      lo[v] = Math.max(scaled / (1 << 10), 0);
      hi[v] = Math.min((scaled + (1 << 10) - 1) / (1 << 10), in - 1);
      w[v] = scaled - (1 << 10) * lo[v];
    }
    return new String[] {ctx.tableI32(name + "0", lo), ctx.tableI32(name + "1", hi), ctx.tableI32("w" + name, w)};
  }
}
