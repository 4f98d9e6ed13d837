package dev.kiln.codegen.kernels;

import dev.kiln.codegen.CodeWriter;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.CompileException;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Storage;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * WHILE, IF and CALL_ONCE as one operator each, the way microTVM lowers a loop: the subgraphs they
 * run are compiled here (folding, kernel checks, their own memory plans) and inlined into the
 * operator's code, so the AoT entry and the graph executor's JSON see a single operator. The
 * operator's scratch memory holds the subgraphs' arenas (one at a time: cond and body never run
 * together), a staging buffer per loop value and the loop flag; nothing is allocated at run time.
 *
 * <p>WHILE keeps its loop values in its own output buffers: operands are copied there, cond and
 * body read them, the body's results go to the staging buffers and are copied back once the body
 * is done (so a body that swaps two values is right). IF runs a branch straight into its outputs.
 * CALL_ONCE runs its init subgraph on the first run after the program starts (a static flag).
 */
final class ControlFlowEmitter implements KernelEmitter {
  private static final Map<Graph, CompiledModel> COMPILED = Collections.synchronizedMap(new WeakHashMap<>());

  private final OpType type;

  ControlFlowEmitter(OpType type) { this.type = type; }

  /** The subgraph compiled once per graph object (the frontend shares one object between ops that run the same subgraph). */
  static CompiledModel compiled(Op op, int i) {
    Options.Subgraphs s = op.options(Options.Subgraphs.class);
    Graph g = s.graph(i);
    CompiledModel c = COMPILED.get(g);
    if (c != null) return c;
    try {
      c = Compiler.compile(g, Kernels.support());
    } catch (CompileException e) {
      throw new UnsupportedOperationException(role(op.type(), i) + " subgraph " + s.indices().get(i) + ": " + e.getMessage(), e);
    }
    COMPILED.put(g, c);
    return c;
  }

  private static String role(OpType type, int i) {
    switch (type) {
      case WHILE: return i == 0 ? "its cond" : "its body";
      case IF: return i == 0 ? "its then" : "its else";
      default: return "its init";
    }
  }

  @Override public void check(Op op) {
    Options.Subgraphs s = op.options(Options.Subgraphs.class);
    for (int i = 0; i < s.graphs().size(); i++) compiled(op, i);
    if (type == OpType.WHILE) {
      for (int i = 0; i < op.inputs().size(); i++) {
        if (op.input(i).byteSize() != op.outputs().get(i).byteSize()) {
          throw new UnsupportedOperationException("loop value " + i + " is " + op.input(i) + " in and " + op.outputs().get(i) + " out");
        }
      }
    }
  }

  @Override public int scratchBytes(Op op) {
    switch (type) {
      case WHILE: return stagingBytes(op) + FLAG_BYTES + Math.max(compiled(op, 0).arenaBytes(), compiled(op, 1).arenaBytes());
      case IF: return Math.max(compiled(op, 0).arenaBytes(), compiled(op, 1).arenaBytes());
      default: return compiled(op, 0).arenaBytes();
    }
  }

  private static final int FLAG_BYTES = 16;

  private static int align(int n) { return (n + 15) / 16 * 16; }

  /**
   * Offsets of the staging buffers of the body's results, each 16-byte aligned, in loop-value order;
   * -1 for a value the body passes through unchanged (its result is its parameter), which needs none.
   * The last entry is the total.
   */
  private static int[] staging(Op op) {
    CompiledModel body = compiled(op, 1);
    int n = op.outputs().size();
    int[] at = new int[n + 1];
    int offset = 0;
    for (int j = 0; j < n; j++) {
      Tensor r = body.graph().outputs().get(j);
      if (body.storage(r) instanceof Storage.Input in && in.index() == j) {
        at[j] = -1;
        continue;
      }
      at[j] = offset;
      offset += align(op.outputs().get(j).byteSize());
    }
    at[n] = offset;
    return at;
  }

  private static int stagingBytes(Op op) {
    int[] at = staging(op);
    return at[at.length - 1];
  }

  @Override public void emit(Op op, KernelContext ctx) {
    switch (type) {
      case WHILE: emitWhile(op, ctx); break;
      case IF: emitIf(op, ctx); break;
      default: emitCallOnce(op, ctx); break;
    }
  }

  private void emitWhile(Op op, KernelContext ctx) {
    CodeWriter w = ctx.body();
    String ws = ctx.newName("while");
    int n = op.outputs().size();
    List<String> out = new ArrayList<>();
    List<String> stage = new ArrayList<>();
    int[] at = staging(op);
    int offset = at[n];
    for (int i = 0; i < n; i++) {
      out.add(ctx.data(op.outputs().get(i)));
      stage.add(at[i] < 0 ? null : "(" + ws + " + " + at[i] + ")");
    }
    String flag = "(" + ws + " + " + offset + ")";
    String arena = "(" + ws + " + " + (offset + FLAG_BYTES) + ")";
    w.begin("do");
    w.linef("uint8_t *%s = (uint8_t *)%s;", ws, ctx.scratch());
    w.comment("the loop values live in the outputs: start them at the operands");
    for (int i = 0; i < n; i++) {
      w.linef("memcpy(%s, %s, %d);", out.get(i), ctx.data(op.input(i)), op.input(i).byteSize());
    }
    w.begin("for (;;)");
    SubgraphCode cond = new SubgraphCode(compiled(op, 0), ctx, out::get, j -> flag, arena);
    cond.emitOps();
    Tensor c = cond.compiled().graph().outputs().get(0);
    w.linef("if (*(const uint8_t *)%s == 0) break;", cond.pointer(c));
    SubgraphCode body = new SubgraphCode(compiled(op, 1), ctx, out::get, stage::get, arena);
    body.emitOps();
    List<Integer> copyBack = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      Tensor r = body.compiled().graph().outputs().get(j);
      if (body.writesOutput(j)) {
        copyBack.add(j);
        continue;
      }
      String src = body.pointer(r);
      if (src.equals(out.get(j))) continue; // value j passes through unchanged
      w.comment("result " + j + " is not written by an op of the body: stage it before any loop value changes");
      w.linef("memcpy(%s, %s, %d);", stage.get(j), src, r.byteSize());
      copyBack.add(j);
    }
    w.comment("the body's results become the loop values");
    for (int j : copyBack) w.linef("memcpy(%s, %s, %d);", out.get(j), stage.get(j), op.outputs().get(j).byteSize());
    w.end();
    w.end(" while (0);");
  }

  private void emitIf(Op op, KernelContext ctx) {
    CodeWriter w = ctx.body();
    String ws = ctx.newName("if");
    w.begin("do");
    w.linef("uint8_t *%s = (uint8_t *)%s;", ws, scratchBytes(op) > 0 ? ctx.scratch() : "NULL");
    w.linef("(void)%s;", ws);
    for (int b = 0; b < 2; b++) {
      w.begin(b == 0 ? "if (*(const uint8_t *)" + ctx.data(op.input(0)) + " != 0)" : "else");
      SubgraphCode branch = new SubgraphCode(compiled(op, b), ctx, i -> ctx.data(op.input(i + 1)),
          j -> ctx.data(op.outputs().get(j)), ws);
      branch.emitOps();
      for (int j = 0; j < op.outputs().size(); j++) {
        if (branch.writesOutput(j)) continue;
        Tensor r = branch.compiled().graph().outputs().get(j);
        w.linef("memcpy(%s, %s, %d);", ctx.data(op.outputs().get(j)), branch.pointer(r), r.byteSize());
      }
      w.end();
    }
    w.end(" while (0);");
  }

  private void emitCallOnce(Op op, KernelContext ctx) {
    CodeWriter w = ctx.body();
    String done = ctx.newName("done");
    String ws = ctx.newName("init");
    w.begin("do");
    w.comment("runs once per program start: it initializes the resource variables");
    w.linef("static int32_t %s = 0;", done);
    w.begin("if (" + done + " == 0)");
    w.linef("uint8_t *%s = (uint8_t *)%s;", ws, scratchBytes(op) > 0 ? ctx.scratch() : "NULL");
    w.linef("(void)%s;", ws);
    w.linef("%s = 1;", done);
    SubgraphCode init = new SubgraphCode(compiled(op, 0), ctx, i -> "NULL", j -> "NULL", ws);
    init.emitOps();
    w.end();
    w.end(" while (0);");
  }
}
