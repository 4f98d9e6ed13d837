package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * MAX_POOL_2D and AVERAGE_POOL_2D (tflite-numerics.md section 4), int8 and float32. Window taps in
 * the padding are skipped and not counted. int8 works on raw codes, as TFLite's reference kernels
 * do: TFLite assumes input and output share scale and zero point (the converter makes them equal)
 * and only the clamp of the fused activation uses the output quantization.
 */
final class PoolEmitter implements KernelEmitter {
  private final boolean max;

  PoolEmitter(OpType type) {
    this.max = type == OpType.MAX_POOL_2D;
  }

  @Override public void check(Op op) {
    if (op.options() instanceof Options.QLinearPool) {
      QLinearEmitter.checkPool(op);
      return;
    }
    checkWindowShapes(op);
    Options.Pool o = op.options(Options.Pool.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    if (o.filterH() < 1 || o.filterW() < 1 || o.strideH() < 1 || o.strideW() < 1) {
      throw unsupported(op, "filter and stride sizes must be >= 1");
    }
    checkPadding(op, o);
    if (in.dtype() == DType.INT8 && out.dtype() == DType.INT8) {
      NnSupport.perTensor(op, in, "the input");
      NnSupport.perTensor(op, out, "the output");
    } else if (!(in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles int8 -> int8 and float32 -> float32");
    }
  }

  /**
   * What every pooling kernel needs of its op: one output, a clamp activation, 4-D non-empty NHWC
   * tensors, and the output keeping the input's batch and channels.
   */
  static void checkWindowShapes(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Pool o = op.options(Options.Pool.class);
    NnSupport.requireClampActivation(op, o.activation());
    Tensor in = NnSupport.requireImageInput(op);
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, out, "the output");
    if (out.dim(0) != in.dim(0) || out.dim(3) != in.dim(3)) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " must keep the input's batch and channels "
          + NnSupport.shape(in));
    }
  }

  /** Padding that leaves every window at least one input pixel (the kernels divide by the count). */
  static void checkPadding(Op op, Options.Pool o) {
    Options.Padding pad = o.padding();
    if (pad.top() < 0 || pad.left() < 0 || pad.top() >= o.filterH() || pad.left() >= o.filterW()) {
      throw unsupported(op, "has padding " + pad + " that leaves windows without any input pixel");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    if (op.options() instanceof Options.QLinearPool) {
      QLinearEmitter.emitPool(op, ctx);
      return;
    }
    Options.Pool o = op.options(Options.Pool.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    NnSupport.Init init = new NnSupport.Init()
        .dim("batches", in.dim(0)).dim("in_h", in.dim(1)).dim("in_w", in.dim(2)).dim("channels", in.dim(3))
        .dim("out_h", out.dim(1)).dim("out_w", out.dim(2))
        .dim8("filter_h", o.filterH()).dim8("filter_w", o.filterW())
        .dim8("stride_h", o.strideH()).dim8("stride_w", o.strideW())
        .dim8("pad_top", o.padding().top()).dim8("pad_left", o.padding().left());
    String fn = max ? "kiln_max_pool" : "kiln_avg_pool";
    if (in.dtype() == DType.INT8) {
      Quantization qo = out.quantization();
      int[] act = NnSupport.actRangeInt8(o.activation(), qo);
      init.put("act_min", act[0]).put("act_max", act[1]);
      fn += "_s8";
    } else {
      float[] act = FixedPoint.activationRangeFloat(o.activation());
      init.put("act_min_f", act[0]).put("act_max_f", act[1]);
      fn += "_f32";
    }
    String params = ctx.constant("kiln_pool_params", max ? "maxpool" : "avgpool", init.useDims(ctx, op).toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s);", fn, params, ctx.data(in), ctx.data(out)));
  }
}
