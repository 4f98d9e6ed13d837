package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.OpType;
import java.util.List;
import java.util.Map;

/** Control flow and resource variables (ctrl-flow): WHILE, IF, CALL_ONCE, READ_VARIABLE, ASSIGN_VARIABLE. */
final class ControlFlowKernels {
  /** No kernel-library files: the subgraphs' ops call the other families' kernels, the rest is inline C. */
  static final List<String> SOURCES = List.of();

  private ControlFlowKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.WHILE, new ControlFlowEmitter(OpType.WHILE));
    emitters.put(OpType.IF, new ControlFlowEmitter(OpType.IF));
    emitters.put(OpType.CALL_ONCE, new ControlFlowEmitter(OpType.CALL_ONCE));
    emitters.put(OpType.READ_VARIABLE, new VariableEmitter(OpType.READ_VARIABLE));
    emitters.put(OpType.ASSIGN_VARIABLE, new VariableEmitter(OpType.ASSIGN_VARIABLE));
  }
}
