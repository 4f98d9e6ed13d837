package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/** Data movement between layouts: TRANSPOSE (any dtype, rank <= 6). Eval lives in {@code kiln_layout.c}. */
final class LayoutKernels {
  static final List<String> SOURCES = List.of("kiln_layout.h", "kiln_layout.c");

  private LayoutKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.TRANSPOSE, new TransposeEmitter());
  }
}
