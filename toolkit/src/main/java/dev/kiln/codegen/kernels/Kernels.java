package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.OpSupport;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The registry of op emitters and the C kernel-library files they call into. */
public final class Kernels {
  private static final Map<OpType, KernelEmitter> EMITTERS = new EnumMap<>(OpType.class);
  private static final List<String> SOURCES = new ArrayList<>();

  static {
    SOURCES.add("kiln_fixedpoint.h");
    NnKernels.register(EMITTERS);
    SOURCES.addAll(NnKernels.SOURCES);
    ElementwiseKernels.register(EMITTERS);
    SOURCES.addAll(ElementwiseKernels.SOURCES);
    LayoutKernels.register(EMITTERS);
    SOURCES.addAll(LayoutKernels.SOURCES);
    // family: heavy NN operators (ops-nn2); after NnKernels, whose CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED it extends to 16x8
    Nn2Kernels.register(EMITTERS);
    SOURCES.addAll(Nn2Kernels.SOURCES);
    // family: elementwise math (ops-eltwise)
    MathKernels.register(EMITTERS);
    SOURCES.addAll(MathKernels.SOURCES);
    // family: data movement (ops-movement)
    MovementKernels.register(EMITTERS);
    SOURCES.addAll(MovementKernels.SOURCES);
    // family: reductions, resampling, spatial (ops-reduce); after NnKernels, whose PAD, MEAN and pools it extends to int16
    ReduceKernels.register(EMITTERS);
    SOURCES.addAll(ReduceKernels.SOURCES);
    // family: control flow (ctrl-flow)
    ControlFlowKernels.register(EMITTERS);
    SOURCES.addAll(ControlFlowKernels.SOURCES);
    // family: onnx (onnx-more): ONNX operators no TFLite kernel computes
    OnnxKernels.register(EMITTERS);
    SOURCES.addAll(OnnxKernels.SOURCES);
    // family: int8 LSTM (lstm-int8); after Nn2Kernels, whose float UNIDIRECTIONAL_SEQUENCE_LSTM it extends to int8
    Lstm8Kernels.register(EMITTERS);
    SOURCES.addAll(Lstm8Kernels.SOURCES);
    // family: dtypes (tfl-dtypes); last, as it extends other families' ops to more data types
    DtypesKernels.register(EMITTERS);
    SOURCES.addAll(DtypesKernels.SOURCES);
  }

  private Kernels() {}

  /** The emitter for an op type; RESHAPE has none (it is a view, handled by the model writer). */
  public static Optional<KernelEmitter> emitter(OpType type) { return Optional.ofNullable(EMITTERS.get(type)); }

  /** The compiler's view of this registry: check an op, size its scratch memory. */
  public static OpSupport support() {
    return new OpSupport() {
      @Override public void check(Op op) {
        emitter(op.type()).orElseThrow(() -> new UnsupportedOperationException("no kernel for " + op.type() + " in this build of Kiln")).check(op);
      }

      @Override public int scratchBytes(Op op) {
        return emitter(op.type()).map(e -> e.scratchBytes(op)).orElse(0);
      }
    };
  }

  /** Kernel-library files under the resource folder {@code /dev/kiln/runtime/kernels/}. */
  public static List<String> sources() { return Collections.unmodifiableList(SOURCES); }
}
