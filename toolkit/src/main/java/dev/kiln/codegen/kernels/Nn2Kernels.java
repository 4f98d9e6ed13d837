package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.compile.FixedPoint;
import java.util.List;
import java.util.Map;

/**
 * Family nn2: TRANSPOSE_CONV, BATCH_MATMUL, SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM (float32, state in
 * variable tensors), and the 16x8 scheme of CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED, which goes to {@link Int16NnEmitter} while every other dtype keeps the emitter
 * registered before (so the int8/float kernels are untouched).
 */
final class Nn2Kernels {
  static final List<String> SOURCES = List.of("kiln_nn2.h", "kiln_nn2.c");

  private Nn2Kernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.TRANSPOSE_CONV, new TransposeConvEmitter());
    emitters.put(OpType.BATCH_MATMUL, new BatchMatMulEmitter());
    emitters.put(OpType.SVDF, new SvdfEmitter());
    emitters.put(OpType.UNIDIRECTIONAL_SEQUENCE_LSTM, new SequenceLstmEmitter());
    for (OpType t : List.of(OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED)) {
      emitters.put(t, new Int16Dispatch(emitters.get(t), new Int16NnEmitter(t)));
    }
  }

  /** int16 input: the 16x8 emitter; anything else: the emitter it replaces. */
  private record Int16Dispatch(KernelEmitter other, KernelEmitter int16) implements KernelEmitter {
    private KernelEmitter pick(Op op) {
      return op.input(0) != null && op.input(0).dtype() == DType.INT16 ? int16 : other;
    }

    @Override public void check(Op op) { pick(op).check(op); }

    @Override public void emit(Op op, KernelContext ctx) { pick(op).emit(op, ctx); }

    @Override public int scratchBytes(Op op) { return pick(op).scratchBytes(op); }
  }

  /**
   * int16 clamp range of a fused activation (CalculateActivationRangeQuantized with qmin -32768,
   * qmax 32767: {@code zp + roundf(f32(v / scale))}).
   */
  static int[] activationRangeInt16(Activation act, float scale, int zeroPoint) {
    int qmin = -32768;
    int qmax = 32767;
    return switch (act) {
      case RELU -> new int[] {Math.max(qmin, quant(0f, scale, zeroPoint)), qmax};
      case RELU6 -> new int[] {Math.max(qmin, quant(0f, scale, zeroPoint)), Math.min(qmax, quant(6f, scale, zeroPoint))};
      case RELU_N1_TO_1 -> new int[] {Math.max(qmin, quant(-1f, scale, zeroPoint)), Math.min(qmax, quant(1f, scale, zeroPoint))};
      default -> new int[] {qmin, qmax};
    };
  }

  private static int quant(float v, float scale, int zeroPoint) {
    float q = v / scale;
    return zeroPoint + FixedPoint.rhaz(q);
  }

  /** The int8/int16 clamp range of an output dtype with a fused activation. */
  static int[] activationRange(DType dtype, Activation act, dev.kiln.ir.Quantization q) {
    return dtype == DType.INT16 ? activationRangeInt16(act, q.scale(), q.zeroPoint())
        : FixedPoint.activationRangeInt8(act, q.scale(), q.zeroPoint());
  }
}
