package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/**
 * Family lstm8: the full-integer (TFLite "8x8_16") UNIDIRECTIONAL_SEQUENCE_LSTM. An int8 input goes to
 * {@link Lstm8Emitter}; every other dtype keeps the emitter registered before (the float32 LSTM).
 */
final class Lstm8Kernels {
  static final List<String> SOURCES = List.of("kiln_lstm8.h", "kiln_lstm8.c");

  private Lstm8Kernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    KernelEmitter before = emitters.get(OpType.UNIDIRECTIONAL_SEQUENCE_LSTM);
    emitters.put(OpType.UNIDIRECTIONAL_SEQUENCE_LSTM, new Int8Dispatch(before, new Lstm8Emitter()));
  }

  /** int8 input: the integer LSTM; anything else: the emitter it replaces. */
  private record Int8Dispatch(KernelEmitter other, KernelEmitter int8) implements KernelEmitter {
    private KernelEmitter pick(Op op) {
      return op.input(0) != null && op.input(0).dtype() == DType.INT8 ? int8 : other;
    }

    @Override public void check(Op op) { pick(op).check(op); }

    @Override public void emit(Op op, KernelContext ctx) { pick(op).emit(op, ctx); }

    @Override public int scratchBytes(Op op) { return pick(op).scratchBytes(op); }
  }
}
