package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/** Windowed and reduction ops: CONV_2D (incl. hybrid), DEPTHWISE_CONV_2D, FULLY_CONNECTED, pools, PAD, MEAN. */
final class NnKernels {
  static final List<String> SOURCES = List.of();

  private NnKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
  }
}
