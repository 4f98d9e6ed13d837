package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.Arrays;

/**
 * L2_NORMALIZATION (float32, int8) and LOCAL_RESPONSE_NORMALIZATION (float32) over the last axis (reference_ops
 * L2Normalization with epsilon 1e-6, LocalResponseNormalization with powf over channels
 * {@code [c - radius, c + radius)}, the reference's window, one channel short of TensorFlow's).
 */
final class NormEmitter implements KernelEmitter {
  private final OpType type;

  NormEmitter(OpType type) {
    this.type = type;
  }

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    if (type == OpType.L2_NORMALIZATION && in.dtype() == DType.INT8 && out.dtype() == DType.INT8) {
      ReduceKernels.perTensor(op, in, "the input");
      ReduceKernels.perTensor(op, out, "the output");
      if (out.quantization().scale() != 1f / 128 || out.quantization().zeroPoint() != 0) {
        throw unsupported(op, "the output '" + out.name() + "' has " + out.quantization() + "; TFLite's int8 L2_NORMALIZATION "
            + "needs scale 1/128 (0.0078125) and zero point 0");
      }
      if (in.dim(-1) > (1 << 15)) throw unsupported(op, "normalizes " + in.dim(-1) + " values; the int32 sum holds 2^15");
    } else if (in.dtype() != DType.FLOAT32 || out.dtype() != DType.FLOAT32) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles " + type + " for float32"
          + (type == OpType.L2_NORMALIZATION ? " and int8" : " only (keep this op in float)"));
    }
    if (!Arrays.equals(in.shape(), out.shape())) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " must have the input's shape " + NnSupport.shape(in));
    }
    if (type == OpType.L2_NORMALIZATION) {
      Activation a = op.options(Options.L2Norm.class).activation();
      if (a != Activation.NONE) {
        throw unsupported(op, "has the fused activation " + a + ", which TFLite's L2_NORMALIZATION rejects; only NONE is valid");
      }
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Tensor in = op.input(0);
    int depth = in.dim(-1);
    int outer = (int) (in.elements() / depth);
    if (type == OpType.L2_NORMALIZATION && in.dtype() == DType.INT8) {
      ctx.body().line(NnSupport.format("kiln_l2_normalization_s8(%d, %d, %d, %s, %s);", outer, depth,
          in.quantization().zeroPoint(), ctx.data(in), ctx.data(op.output())));
      return;
    }
    if (type == OpType.L2_NORMALIZATION) {
      ctx.body().line(NnSupport.format("kiln_l2_normalization_f32(%d, %d, %s, %s);", outer, depth, ctx.data(in),
          ctx.data(op.output())));
      return;
    }
    Options.Lrn o = op.options(Options.Lrn.class);
    NnSupport.Init init = new NnSupport.Init().put("outer", outer).put("depth", depth).put("radius", o.radius())
        .put("bias", o.bias()).put("alpha", o.alpha()).put("beta", o.beta());
    String params = ctx.constant("kiln_lrn_params", "lrn", init.toString());
    ctx.body().line(NnSupport.format("kiln_lrn_f32(&%s, %s, %s);", params, ctx.data(in), ctx.data(op.output())));
  }
}
