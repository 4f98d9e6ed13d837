package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.ElementwiseKernels.unsupported;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.Walk;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Data movement (family ops-movement): SLICE, STRIDED_SLICE, REVERSE_V2, TILE, BROADCAST_TO (one
 * walk), SPLIT, SPLIT_V, UNPACK (a walk per output), PACK (row copies), GATHER, EMBEDDING_LOOKUP,
 * GATHER_ND, DYNAMIC_UPDATE_SLICE, BROADCAST_ARGS and SHAPE. Geometry comes from
 * {@link dev.kiln.compile.Movement}; Eval lives in {@code kiln_movement.c}.
 */
final class MovementKernels {
  static final List<String> SOURCES = List.of("kiln_movement.h", "kiln_movement.c");

  private MovementKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    for (OpType t : List.of(OpType.SLICE, OpType.STRIDED_SLICE, OpType.REVERSE_V2, OpType.TILE, OpType.BROADCAST_TO)) {
      emitters.put(t, new WalkEmitter());
    }
    for (OpType t : List.of(OpType.SPLIT, OpType.SPLIT_V, OpType.UNPACK)) emitters.put(t, new SplitEmitter());
    emitters.put(OpType.PACK, new PackEmitter());
    emitters.put(OpType.GATHER, new GatherEmitter());
    emitters.put(OpType.EMBEDDING_LOOKUP, new GatherEmitter());
    emitters.put(OpType.GATHER_ND, new GatherNdEmitter());
    emitters.put(OpType.DYNAMIC_UPDATE_SLICE, new UpdateSliceEmitter());
    emitters.put(OpType.BROADCAST_ARGS, new BroadcastArgsEmitter());
    emitters.put(OpType.SHAPE, new ShapeEmitter());
  }

  /** Runs a geometry computation, turning its IllegalArgumentException into the op's refusal. */
  static <T> T geometry(Op op, Supplier<T> f) {
    try {
      return f.get();
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      throw unsupported(op, e.getMessage());
    }
  }

  /** Data movement keeps values: same dtype and, for quantized types, the same scale and zero point (TFLite's rule). */
  static void requireSameEncoding(Op op, Tensor in, Tensor out) {
    if (in.dtype() != out.dtype()) {
      throw unsupported(op, "the input '" + in.name() + "' is " + in.dtype() + " and the output '" + out.name() + "' " + out.dtype()
          + "; " + op.type() + " moves elements, it does not convert them");
    }
    if (!in.quantization().equals(out.quantization())) {
      throw unsupported(op, "the input '" + in.name() + "' has quantization " + in.quantization() + " and the output '" + out.name()
          + "' " + out.quantization() + "; TFLite's " + op.type() + " does not requantize, so they must be equal");
    }
    ElementwiseKernels.count(op, in);
    ElementwiseKernels.count(op, out);
  }

  /** Index inputs: int32 or int64. */
  static int indexBytes(Op op, Tensor t, String role) {
    if (t.dtype() != dev.kiln.ir.DType.INT32 && t.dtype() != dev.kiln.ir.DType.INT64) {
      throw unsupported(op, "the " + role + " '" + t.name() + "' is " + t.dtype() + "; TFLite takes int32 or int64 " + role);
    }
    return t.dtype().byteSize();
  }

  /** The C initializer of a walk, simplified and padded to {@link Walk#RANK} axes with leading 1s. */
  static String walkParams(Op op, Walk walk, int elementBytes) {
    Walk w = walk.simplified();
    int r = w.shape().length;
    if (r > Walk.RANK) {
      throw unsupported(op, "the copy needs " + r + " axes after merging (" + w + "); Kiln's kernel loops over at most " + Walk.RANK);
    }
    int[] shape = new int[Walk.RANK];
    long[] step = new long[Walk.RANK];
    Arrays.fill(shape, 1);
    for (int i = 0; i < r; i++) {
      shape[Walk.RANK - r + i] = w.shape()[i];
      step[Walk.RANK - r + i] = w.step()[i];
    }
    StringBuilder sh = new StringBuilder("{");
    StringBuilder st = new StringBuilder("{");
    for (int i = 0; i < Walk.RANK; i++) {
      sh.append(i == 0 ? "" : ", ").append(shape[i]);
      st.append(i == 0 ? "" : ", ").append(Math.toIntExact(step[i]));
    }
    return ElementwiseKernels.initializer(".shape = " + sh + "}", ".step = " + st + "}",
        ".offset = " + Math.toIntExact(w.offset()) + ", .element_bytes = " + elementBytes);
  }

  static String list(long[] v, int n) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(i < v.length ? Math.toIntExact(v[i]) : 0);
    return sb.append('}').toString();
  }
}
