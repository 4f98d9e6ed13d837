package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/** Per-element and row ops: SOFTMAX, ADD, SUB, MUL, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6. */
final class ElementwiseKernels {
  static final List<String> SOURCES = List.of();

  private ElementwiseKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
  }
}
