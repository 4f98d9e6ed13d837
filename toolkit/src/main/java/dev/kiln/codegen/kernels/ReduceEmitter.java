package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;
import static dev.kiln.codegen.kernels.ReduceKernels.list;

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
 * SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL over constant axes, and MEAN for int16 (TF 2.21 reduce.cc).
 *
 * <ul>
 *   <li>REDUCE_MAX / REDUCE_MIN: float32, and int8 / int16 on raw codes (input and output share their
 *       quantization, which TFLite requires).
 *   <li>REDUCE_ALL: bool.
 *   <li>SUM: float32 summed in input order; int8 with differing input/output quantization as
 *       reference_ops::QuantizedMeanOrSum(compute_sum) does it: {@code (int8)(roundf(sum * scale +
 *       bias) + z_out)} with {@code scale = s_in / s_out} and {@code bias = -z_in * scale * n} in float32
 *       (no clamp: the cast wraps). TF 2.21's BUILTIN_REF build returns wrong values for int8 SUM (see
 *       make_ops_reduce.py); its source and its optimized kernel agree with this where the sum fits int8.
 *       Where it does not, the optimized kernel and TFLite Micro clamp, while BUILTIN_REF wraps as here
 *       (ops-control/cond_int8 takes the branch its wrapped sum picks), and Kiln follows the reference.
 *   <li>SUM int16 (16x8), with the same or a different scale on input and output: TF 2.21's optimized
 *       QuantizedMeanOrSum (compute_sum), the int8 formula clamped to int16: {@code clamp(roundf(sum * scale))}
 *       with the int32 sum of the codes and {@code scale = s_in / s_out} in float32 (zero points are 0).
 *       BUILTIN_REF is no reference here: its outputs are no sums and change from run to run (in TensorFlow's
 *       source the reference branch of reduce.cc's QuantizedMeanOrSum passes the tensors as uint8_t).
 *   <li>MEAN int16: as the int8 MEAN ({@link MeanEmitter#int8Multiplier}) with the int16 clamp.
 * </ul>
 */
final class ReduceEmitter implements KernelEmitter {
  private final OpType type;

  ReduceEmitter(OpType type) {
    this.type = type;
  }

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Mean o = op.options(Options.Mean.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    for (int a : o.axes()) {
      if (a < 0 || a >= in.rank()) throw unsupported(op, "axis " + a + " is outside the input's rank " + in.rank());
    }
    MeanEmitter.Plan p = MeanEmitter.plan(in.shape(), o.axes());
    if (p.keptSize().length > MeanEmitter.MAX_DIMS || p.reducedSize().length > MeanEmitter.MAX_DIMS) {
      throw unsupported(op, "the input " + NnSupport.shape(in) + " alternates kept and reduced dimensions too often; "
          + "Kiln handles up to " + MeanEmitter.MAX_DIMS + " groups of each");
    }
    long outputs = 1;
    for (int k : p.keptSize()) outputs *= k;
    if (out.elements() != outputs) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " should have " + outputs + " elements");
    }
    DType di = in.dtype();
    if (di != out.dtype()) throw unsupported(op, "dtypes " + dtypes(op) + " differ; " + what());
    switch (type) {
      case REDUCE_MAX, REDUCE_MIN -> {
        if (di == DType.INT8 || di == DType.INT16) ReduceKernels.requireSameQuantization(op, in, out);
        else if (di != DType.FLOAT32) throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; " + what());
      }
      case REDUCE_ALL -> {
        if (di != DType.BOOL) throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; " + what());
      }
      case SUM -> {
        if (di == DType.INT8) {
          Quantization qi = ReduceKernels.perTensor(op, in, "the input");
          Quantization qo = ReduceKernels.perTensor(op, out, "the output");
          if (qi.scale() == qo.scale() && qi.zeroPoint() == qo.zeroPoint()) {
            throw unsupported(op, "int8 SUM with the same scale and zero point on input and output adds raw codes in "
                + "int8 in TFLite (wrapping around); Kiln compiles int8 SUM only with a rescaled output, as the "
                + "converter emits it");
          }
          if (p.count() > (1L << 23)) {
            throw unsupported(op, "sums " + p.count() + " int8 elements per output; Kiln's int32 sum holds at most 2^23");
          }
        } else if (di == DType.INT16) {
          checkInt16Sum(op, p.count());
        } else if (di != DType.FLOAT32) {
          throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; " + what());
        }
      }
      case MEAN -> {
        if (di != DType.INT16) throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; " + what());
        ReduceKernels.perTensor(op, in, "the input");
        ReduceKernels.perTensor(op, out, "the output");
        if (p.count() >= (1L << 16)) {
          throw unsupported(op, "averages " + p.count() + " int16 elements per output; the int32 sum holds fewer than 2^16");
        }
      }
      default -> throw new IllegalStateException("not a reduction: " + type);
    }
  }

  /** The int32 sum of up to 2^16 - 1 codes, and its float rescale within int32 (TFLite converts it unchecked). */
  private static void checkInt16Sum(Op op, long count) {
    Quantization qi = ReduceKernels.perTensor(op, op.input(0), "the input");
    Quantization qo = ReduceKernels.perTensor(op, op.output(), "the output");
    if (qi.zeroPoint() != 0 || qo.zeroPoint() != 0) {
      throw unsupported(op, "int16 SUM needs zero point 0 on input and output (TFLite's 16x8 scheme; it rejects "
          + "others), but the input has " + qi.zeroPoint() + " and the output " + qo.zeroPoint());
    }
    if (count >= (1L << 16)) {
      throw unsupported(op, "sums " + count + " int16 elements per output; the int32 sum holds fewer than 2^16");
    }
    double largest = 32768.0 * count * (double) (qi.scale() / qo.scale());
    if (largest >= 2147483648.0 * (1 - 1.0 / (1 << 20))) {
      throw unsupported(op, "the rescaled sum reaches " + (long) largest + " (32768 * " + count + " * s_in / s_out), "
          + "beyond int32, where TFLite's float-to-int32 conversion is undefined; use an output scale of at least "
          + "s_in * " + count + " / 65536");
    }
  }

  private String what() {
    return switch (type) {
      case REDUCE_MAX, REDUCE_MIN -> "Kiln compiles " + type + " for float32, int8 and int16 (same type in and out)";
      case REDUCE_ALL -> "Kiln compiles REDUCE_ALL for bool -> bool";
      case SUM -> "Kiln compiles SUM for float32, int8 and int16 (same type in and out)";
      default -> "Kiln compiles MEAN for float32, int8 and int16 (same type in and out)";
    };
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Mean o = op.options(Options.Mean.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    MeanEmitter.Plan p = MeanEmitter.plan(in.shape(), o.axes());
    NnSupport.Init init = new NnSupport.Init()
        .put("num_kept", p.keptSize().length).raw("kept_size", list(p.keptSize())).raw("kept_stride", list(p.keptStride()))
        .put("num_reduced", p.reducedSize().length).raw("reduced_size", list(p.reducedSize()))
        .raw("reduced_stride", list(p.reducedStride())).put("count", (int) p.count());
    String fn;
    switch (type) {
      case REDUCE_MAX -> fn = "kiln_reduce_max_" + ReduceKernels.suffix(in.dtype());
      case REDUCE_MIN -> fn = "kiln_reduce_min_" + ReduceKernels.suffix(in.dtype());
      case REDUCE_ALL -> fn = "kiln_reduce_all_b";
      case SUM -> {
        fn = "kiln_reduce_sum_" + ReduceKernels.suffix(in.dtype());
        if (in.dtype() == DType.INT8 || in.dtype() == DType.INT16) {
          Quantization qi = in.quantization();
          Quantization qo = out.quantization();
          float scale = qi.scale() / qo.scale();
          float bias = (float) -qi.zeroPoint() * scale * (float) p.count();
          init.put("scale", scale).put("bias", bias).put("output_zero_point", qo.zeroPoint());
        }
      }
      default -> {
        fn = "kiln_reduce_mean_s16";
        Quantization qi = in.quantization();
        Quantization qo = out.quantization();
        if (o.axes().length == 0) {
          init.put("input_zero_point", 0).put("output_zero_point", 0).put("multiplier", 1 << 30).put("shift", 1);
        } else {
          FixedPoint.Multiplier m = MeanEmitter.int8Multiplier(qi.scale(), qo.scale(), p.count());
          init.put("input_zero_point", qi.zeroPoint()).put("output_zero_point", qo.zeroPoint())
              .put("multiplier", m.multiplier()).put("shift", m.shift());
        }
      }
    }
    String params = ctx.constant("kiln_reduce_params", type.name().toLowerCase(java.util.Locale.ROOT), init.toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s);", fn, params, ctx.data(in), ctx.data(out)));
  }
}
