package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/**
 * Reductions, resampling and spatial rearrangement (family ops-reduce): SUM, REDUCE_MAX, REDUCE_MIN,
 * REDUCE_ALL, ARG_MAX, ARG_MIN, CUMSUM, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, DEPTH_TO_SPACE,
 * SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, MIRROR_PAD, PADV2, L2_NORMALIZATION, L2_POOL_2D,
 * LOCAL_RESPONSE_NORMALIZATION, and the int16 (16x8) forms of PAD, MAX_POOL_2D, AVERAGE_POOL_2D and
 * MEAN, which wrap the emitters {@link NnKernels} registered. Eval lives in {@code kiln_reduce.c} and
 * {@code kiln_spatial.c}. Must be registered after {@link NnKernels}.
 */
final class ReduceKernels {
  static final List<String> SOURCES = List.of("kiln_reduce.h", "kiln_reduce.c", "kiln_spatial.c");

  private ReduceKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    for (OpType t : List.of(OpType.SUM, OpType.REDUCE_MAX, OpType.REDUCE_MIN, OpType.REDUCE_ALL)) {
      emitters.put(t, new ReduceEmitter(t));
    }
    emitters.put(OpType.ARG_MAX, new ArgMinMaxEmitter(true));
    emitters.put(OpType.ARG_MIN, new ArgMinMaxEmitter(false));
    emitters.put(OpType.CUMSUM, new CumsumEmitter());
    emitters.put(OpType.RESIZE_BILINEAR, new ResizeBilinearEmitter());
    for (OpType t : List.of(OpType.RESIZE_NEAREST_NEIGHBOR, OpType.DEPTH_TO_SPACE, OpType.SPACE_TO_DEPTH,
        OpType.BATCH_TO_SPACE_ND, OpType.MIRROR_PAD, OpType.PADV2)) {
      emitters.put(t, new IndexTableEmitter(t));
    }
    emitters.put(OpType.SPACE_TO_BATCH_ND, new SpaceToBatchEmitter());
    emitters.put(OpType.L2_NORMALIZATION, new NormEmitter(OpType.L2_NORMALIZATION));
    emitters.put(OpType.LOCAL_RESPONSE_NORMALIZATION, new NormEmitter(OpType.LOCAL_RESPONSE_NORMALIZATION));
    emitters.put(OpType.L2_POOL_2D, new Pool16Emitter(OpType.L2_POOL_2D));
    // int16 activations (16x8) of ops whose int8/float32 emitters live in NnKernels
    emitters.put(OpType.PAD, new Int16Override(emitters.get(OpType.PAD), new IndexTableEmitter(OpType.PAD)));
    emitters.put(OpType.MEAN, new Int16Override(emitters.get(OpType.MEAN), new ReduceEmitter(OpType.MEAN)));
    emitters.put(OpType.MAX_POOL_2D, new Int16Override(emitters.get(OpType.MAX_POOL_2D), new Pool16Emitter(OpType.MAX_POOL_2D)));
    emitters.put(OpType.AVERAGE_POOL_2D,
        new Int16Override(emitters.get(OpType.AVERAGE_POOL_2D), new Pool16Emitter(OpType.AVERAGE_POOL_2D)));
  }

  /** Sends ops whose first input is int16 to {@code int16}, all others to {@code original}. */
  record Int16Override(KernelEmitter original, KernelEmitter int16) implements KernelEmitter {
    private KernelEmitter pick(Op op) {
      return op.input(0) != null && op.input(0).dtype() == DType.INT16 ? int16 : original;
    }

    @Override public void check(Op op) { pick(op).check(op); }

    @Override public void emit(Op op, KernelContext ctx) { pick(op).emit(op, ctx); }

    @Override public int scratchBytes(Op op) { return pick(op).scratchBytes(op); }
  }

  /** "{1, 2, 3}" (or "{0}" when empty), for fixed-size C arrays in parameter structs. */
  static String list(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    if (v.length == 0) sb.append('0');
    return sb.append('}').toString();
  }

  /** The same scale and zero point on both int tensors (ops that move raw codes, as TFLite requires). */
  static void requireSameQuantization(Op op, dev.kiln.ir.Tensor in, dev.kiln.ir.Tensor out) {
    perTensor(op, in, "the input");
    perTensor(op, out, "the output");
    if (in.quantization().scale() != out.quantization().scale() || in.quantization().zeroPoint() != out.quantization().zeroPoint()) {
      throw NnSupport.unsupported(op, "the input '" + in.name() + "' (" + in.quantization() + ") and the output '" + out.name()
          + "' (" + out.quantization() + ") must share scale and zero point, as TFLite requires for this op; "
          + "re-quantize the model so they match");
    }
  }

  /** The per-tensor quantization of an int8 or int16 tensor, checked (zero point within the dtype's range). */
  static dev.kiln.ir.Quantization perTensor(Op op, dev.kiln.ir.Tensor t, String role) {
    if (t.dtype() == DType.INT8) return NnSupport.perTensor(op, t, role);
    dev.kiln.ir.Quantization q = t.quantization();
    if (!q.isQuantized() || q.isPerChannel()) {
      throw NnSupport.unsupported(op, role + " '" + t.name() + "' is " + t.dtype() + " without one scale and zero point; "
          + "quantize the model with a representative dataset (16x8 scheme for int16)");
    }
    NnSupport.requireScale(op, t, role, q.scale());
    if (q.zeroPoint() < Short.MIN_VALUE || q.zeroPoint() > Short.MAX_VALUE) {
      throw NnSupport.unsupported(op, role + " '" + t.name() + "' has zero point " + q.zeroPoint() + " outside the int16 range");
    }
    return q;
  }

  /** The C-typed suffix of a kernel name: f32, s8, s16, s32, s64, b. */
  static String suffix(DType t) {
    return switch (t) {
      case FLOAT32 -> "f32";
      case INT8 -> "s8";
      case INT16 -> "s16";
      case INT32 -> "s32";
      case INT64 -> "s64";
      case BOOL, UINT8 -> "b";
    };
  }
}
