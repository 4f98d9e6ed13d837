package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Arrays;

/**
 * SPACE_TO_BATCH_ND (reference_ops::SpaceToBatchND) for 3-D [b, w, c] and 4-D NHWC inputs, any
 * dtype; the padding takes the output zero point (quantized) or 0.
 */
final class SpaceToBatchEmitter implements KernelEmitter {
  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.SpaceBatch o = op.options(Options.SpaceBatch.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    if (in.dtype() != out.dtype()) throw unsupported(op, "dtypes " + dtypes(op) + " differ; SPACE_TO_BATCH_ND moves values unchanged");
    if (in.dtype() == DType.INT8 || in.dtype() == DType.INT16) ReduceKernels.requireSameQuantization(op, in, out);
    int m = o.block().length;
    if (in.rank() != out.rank() || (in.rank() != 3 && in.rank() != 4) || m != in.rank() - 2) {
      throw unsupported(op, "Kiln compiles SPACE_TO_BATCH_ND for 3-D and 4-D inputs with one block entry per spatial "
          + "dimension; the input is " + NnSupport.shape(in) + " with block " + Arrays.toString(o.block()));
    }
    long batch = in.dim(0);
    for (int k = 0; k < m; k++) {
      batch *= o.block()[k];
      long padded = (long) in.dim(k + 1) + o.before()[k] + o.after()[k];
      if (padded % o.block()[k] != 0 || padded / o.block()[k] != out.dim(k + 1)) {
        throw unsupported(op, "the output " + NnSupport.shape(out) + " does not match the input " + NnSupport.shape(in)
            + " padded by " + Arrays.toString(o.before()) + " / " + Arrays.toString(o.after()) + " in blocks of "
            + Arrays.toString(o.block()));
      }
    }
    if (batch != out.dim(0) || out.dim(-1) != in.dim(-1)) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " does not match the input " + NnSupport.shape(in)
          + " with block " + Arrays.toString(o.block()));
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.SpaceBatch o = op.options(Options.SpaceBatch.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    boolean four = in.rank() == 4;
    NnSupport.Init init = new NnSupport.Init().put("in_batch", in.dim(0)).put("in_h", four ? in.dim(1) : 1)
        .put("in_w", in.dim(-2)).put("depth", in.dim(-1)).put("out_batch", out.dim(0)).put("out_h", four ? out.dim(1) : 1)
        .put("out_w", out.dim(-2)).put("block_h", four ? o.block()[0] : 1).put("block_w", o.block()[o.block().length - 1])
        .put("pad_top", four ? o.before()[0] : 0).put("pad_left", o.before()[o.before().length - 1])
        .put("element_bytes", in.dtype().byteSize());
    String params = ctx.constant("kiln_space_to_batch_params", "space_to_batch", init.toString());
    String pad = ctx.constant(in.dtype().cType(), "pad_value", IndexTableEmitter.padLiteral(out));
    ctx.body().line(NnSupport.format("kiln_space_to_batch(&%s, %s, &%s, %s);", params, ctx.data(in), pad, ctx.data(out)));
  }
}
