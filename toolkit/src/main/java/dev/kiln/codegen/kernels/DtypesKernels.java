package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/**
 * Family tfl-dtypes: the data types TFLite Micro runs that the other families left out (LOGISTIC,
 * TANH, EXP, LOG, RSQRT, GELU, RELU and RELU6 on int16), and the operators whole Keras models need. REDUCE_PROD only ever runs at compile time (Keras' Tensordot
 * multiplies shape entries; ConstantFolding evaluates it): TFLite Micro has no REDUCE_PROD kernel,
 * so one left for the device is refused.
 */
final class DtypesKernels {
  static final List<String> SOURCES = List.of("kiln_dtypes.h", "kiln_dtypes.c");

  private DtypesKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    for (OpType t : List.of(OpType.LOGISTIC, OpType.TANH)) emitters.put(t, new SigmoidInt16Emitter(t, emitters.get(t)));
    for (OpType t : List.of(OpType.EXP, OpType.LOG, OpType.RSQRT, OpType.GELU)) {
      emitters.put(t, new MathKernels.ByPredicate(Lut16Emitter::isInt16, new Lut16Emitter(t), emitters.get(t)));
    }
    for (OpType t : List.of(OpType.RELU, OpType.RELU6)) {
      emitters.put(t, new MathKernels.ByPredicate(Lut16Emitter::isInt16, new Relu16Emitter(t), emitters.get(t)));
    }
    emitters.put(OpType.REDUCE_PROD, new KernelEmitter() {
      @Override public void check(Op op) {
        throw NnSupport.unsupported(op, "REDUCE_PROD on run-time data " + NnSupport.dtypes(op) + " is not supported: Kiln "
            + "folds REDUCE_PROD of constants and static shapes at compile time only (TFLite Micro has no REDUCE_PROD kernel)");
      }

      @Override public void emit(Op op, KernelContext ctx) { throw new IllegalStateException("REDUCE_PROD is never emitted"); }
    });
  }
}
