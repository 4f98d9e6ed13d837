package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * MAX_POOL_2D and AVERAGE_POOL_2D on int16 codes (16x8; the int8 kernels' arithmetic with the
 * int16 range), and L2_POOL_2D in float32. Window taps in the padding are skipped and not counted.
 */
final class Pool16Emitter implements KernelEmitter {
  private final OpType type;

  Pool16Emitter(OpType type) {
    this.type = type;
  }

  @Override public void check(Op op) {
    PoolEmitter.checkWindowShapes(op);
    Options.Pool o = op.options(Options.Pool.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    PoolEmitter.checkPadding(op, o);
    DType want = type == OpType.L2_POOL_2D ? DType.FLOAT32 : DType.INT16;
    if (in.dtype() != want || out.dtype() != want) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles " + (type == OpType.L2_POOL_2D
          ? "L2_POOL_2D for float32 only" : type + " for int8, int16 and float32"));
    }
    if (want == DType.INT16) ReduceKernels.requireSameQuantization(op, in, out);
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Pool o = op.options(Options.Pool.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    NnSupport.Init init = new NnSupport.Init()
        .dim("batches", in.dim(0)).dim("in_h", in.dim(1)).dim("in_w", in.dim(2)).dim("channels", in.dim(3))
        .dim("out_h", out.dim(1)).dim("out_w", out.dim(2))
        .dim8("filter_h", o.filterH()).dim8("filter_w", o.filterW())
        .dim8("stride_h", o.strideH()).dim8("stride_w", o.strideW())
        .dim8("pad_top", o.padding().top()).dim8("pad_left", o.padding().left());
    String fn;
    if (type == OpType.L2_POOL_2D) {
      float[] act = FixedPoint.activationRangeFloat(o.activation());
      init.put("act_min_f", act[0]).put("act_max_f", act[1]);
      fn = "kiln_l2_pool_f32";
    } else {
      int[] act = actRangeInt16(o.activation(), out.quantization());
      init.put("act_min", act[0]).put("act_max", act[1]);
      fn = type == OpType.MAX_POOL_2D ? "kiln_max_pool_s16" : "kiln_avg_pool_s16";
    }
    String params = ctx.constant("kiln_pool_params", type.name().toLowerCase(java.util.Locale.ROOT), init.useDims(ctx, op).toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s);", fn, params, ctx.data(in), ctx.data(out)));
  }

  /** CalculateActivationRangeQuantized for int16 outputs. */
  static int[] actRangeInt16(Activation act, Quantization q) {
    int lo = Short.MIN_VALUE;
    int hi = Short.MAX_VALUE;
    float s = q.scale();
    int z = q.zeroPoint();
    switch (act) {
      case RELU -> lo = Math.max(lo, z + FixedPoint.rhaz(0f / s));
      case RELU6 -> {
        lo = Math.max(lo, z + FixedPoint.rhaz(0f / s));
        hi = Math.min(hi, z + FixedPoint.rhaz(6f / s));
      }
      case RELU_N1_TO_1 -> {
        lo = Math.max(lo, z + FixedPoint.rhaz(-1f / s));
        hi = Math.min(hi, z + FixedPoint.rhaz(1f / s));
      }
      default -> { }
    }
    return new int[] {lo, hi};
  }
}
