package dev.kiln.codegen.kernels;

import dev.kiln.codegen.CodeWriter;
import dev.kiln.codegen.KernelContext;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Storage;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The C of one compiled subgraph, inlined where a control-flow op runs it: every op through its
 * kernel emitter, its parameters and results at pointers the caller chooses, its intermediates in
 * the subgraph's own arena (a region of the control-flow op's scratch memory, sized by the
 * subgraph's memory plan), its weights in file-scope arrays, its variables in the model's static
 * variable buffers. Nested control flow works the same way one level down.
 */
final class SubgraphCode {
  private final CompiledModel sub;
  private final KernelContext parent;
  private final IntFunction<String> input;
  private final IntFunction<String> output;
  private final String arena;
  private final Map<Tensor, String> constants = new HashMap<>();

  /**
   * @param input  untyped C pointer expression of parameter i
   * @param output untyped C pointer expression where result j is written (when the subgraph writes it)
   * @param arena  a {@code uint8_t *} expression of the subgraph's arena
   */
  SubgraphCode(CompiledModel sub, KernelContext parent, IntFunction<String> input, IntFunction<String> output, String arena) {
    this.sub = sub;
    this.parent = parent;
    this.input = input;
    this.output = output;
    this.arena = arena;
  }

  CompiledModel compiled() { return sub; }

  /** A typed pointer to {@code t}'s data (const for constants). */
  String pointer(Tensor t) {
    if (t.isVariable()) return parent.data(t);
    Storage s = sub.storage(t);
    String type = t.dtype().cType();
    if (s instanceof Storage.Constant) {
      return constants.computeIfAbsent(t, k -> parent.constantArray("sg_" + k.cName(), k));
    }
    if (s instanceof Storage.Input in) return typed(type, input.apply(in.index()));
    if (s instanceof Storage.Output out) return typed(type, output.apply(out.index()));
    return "((" + type + " *)(" + arena + " + " + ((Storage.Arena) s).offset() + "))";
  }

  /** {@code expr} as a {@code T *}: unchanged if the caller's expression already is one (the parent's typed pointers). */
  private static String typed(String type, String expr) {
    return expr.startsWith("((" + type + " *)") ? expr : "((" + type + " *)" + expr + ")";
  }

  /** Whether result {@code j} is written in place by an op (else the caller copies it from {@link #pointer}). */
  boolean writesOutput(int j) {
    return sub.storage(sub.graph().outputs().get(j)) instanceof Storage.Output o && o.index() == j;
  }

  /** Writes every op of the subgraph into the parent's body. */
  void emitOps() {
    CodeWriter body = parent.body();
    for (Op op : sub.graph().ops()) {
      body.comment("subgraph " + sub.graph().name() + " op " + op.index() + ": " + op.type());
      if (op.type().isView()) {
        Storage from = sub.storage(op.input(0));
        Storage to = sub.storage(op.output());
        if (!from.equals(to)) body.linef("memcpy(%s, %s, %d);", pointer(op.output()), pointer(op.input(0)), op.output().byteSize());
        continue;
      }
      Kernels.emitter(op.type()).orElseThrow().emit(op, new Context(op));
    }
  }

  /** The kernel context of one subgraph op: this subgraph's pointers and scratch, the parent's file. */
  private final class Context implements KernelContext {
    private final Op op;

    Context(Op op) { this.op = op; }

    @Override public String data(Tensor t) { return pointer(t); }

    @Override public String tableI32(String hint, int[] values) { return parent.tableI32(hint, values); }

    @Override public String tableI8(String hint, byte[] values) { return parent.tableI8(hint, values); }

    @Override public String tableF32(String hint, float[] values) { return parent.tableF32(hint, values); }

    @Override public String constant(String structType, String hint, String initializer) {
      return parent.constant(structType, hint, initializer);
    }

    @Override public String constantArray(String hint, Tensor constant) { return parent.constantArray(hint, constant); }

    @Override public String newName(String hint) { return parent.newName(hint); }

    @Override public String scratch() { return "((void *)(" + arena + " + " + sub.scratchOffset(op) + "))"; }

    @Override public CodeWriter body() { return parent.body(); }
  }
}
