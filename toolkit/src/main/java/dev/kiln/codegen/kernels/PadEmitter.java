package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.Arrays;

/**
 * PAD of rank <= 6: int8 pads with the output zero point and copies the input codes unchanged
 * (TFLite's reference does not rescale), float32 pads with 0.0f.
 */
final class PadEmitter implements KernelEmitter {
  static final int MAX_RANK = 6;

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Pad o = op.options(Options.Pad.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    int rank = in.rank();
    if (rank > MAX_RANK) {
      throw unsupported(op, "the input has rank " + rank + "; Kiln pads tensors of rank <= " + MAX_RANK);
    }
    if (o.before().length != rank || o.after().length != rank) {
      throw unsupported(op, "has paddings for " + o.before().length + " dimensions; the input has rank " + rank);
    }
    for (int d = 0; d < rank; d++) {
      if (o.before()[d] < 0 || o.after()[d] < 0) {
        throw unsupported(op, "has a negative padding in dimension " + d);
      }
      long size = (long) o.before()[d] + in.dim(d) + o.after()[d];
      if (out.rank() != rank || out.dim(d) != size) {
        throw unsupported(op, "the output " + NnSupport.shape(out) + " does not match the input " + NnSupport.shape(in)
            + " padded by " + Arrays.toString(o.before()) + " / " + Arrays.toString(o.after()));
      }
    }
    if (in.dtype() == DType.INT8 && out.dtype() == DType.INT8) {
      NnSupport.perTensor(op, out, "the output");
    } else if (!(in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles PAD for int8 and float32");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Pad o = op.options(Options.Pad.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    int rank = in.rank();
    int[] dims = new int[MAX_RANK];
    int[] before = new int[MAX_RANK];
    int[] after = new int[MAX_RANK];
    int lead = MAX_RANK - rank;
    for (int d = 0; d < MAX_RANK; d++) {
      dims[d] = d < lead ? 1 : in.dim(d - lead);
      before[d] = d < lead ? 0 : o.before()[d - lead];
      after[d] = d < lead ? 0 : o.after()[d - lead];
    }
    String init = ".in_dims = " + list(dims) + ", .before = " + list(before) + ", .after = " + list(after);
    String params = ctx.constant("kiln_pad_params", "pad", init);
    if (in.dtype() == DType.INT8) {
      Quantization qo = out.quantization();
      ctx.body().line(NnSupport.format("kiln_pad_s8(&%s, %s, %s, %d);", params, ctx.data(in), ctx.data(out), qo.zeroPoint()));
    } else {
      ctx.body().line(NnSupport.format("kiln_pad_f32(&%s, %s, %s, 0.0f);", params, ctx.data(in), ctx.data(out)));
    }
  }

  private static String list(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    return sb.append('}').toString();
  }
}
