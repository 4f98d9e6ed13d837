package dev.kiln.compile;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.Map;

/**
 * A graph ready for code generation: where every tensor lives (views share their source's bytes),
 * each op's scratch memory, and the memory plan behind the arena offsets.
 */
public final class CompiledModel {
  private final Graph graph;
  private final Map<Tensor, Storage> storage;
  private final Map<Op, Integer> scratchOffsets;
  private final MemoryPlan plan;
  private final MemoryPlan planWithIo;
  private final long compileNanos;
  private final int sourceOps;
  private final int foldedOps;

  CompiledModel(Graph graph, Map<Tensor, Storage> storage, Map<Op, Integer> scratchOffsets, MemoryPlan plan,
                MemoryPlan planWithIo, long compileNanos, int sourceOps, int foldedOps) {
    this.sourceOps = sourceOps;
    this.foldedOps = foldedOps;
    this.planWithIo = planWithIo;
    this.graph = graph;
    this.storage = Map.copyOf(storage);
    this.scratchOffsets = Map.copyOf(scratchOffsets);
    this.plan = plan;
    this.compileNanos = compileNanos;
  }

  public Graph graph() { return graph; }

  public Storage storage(Tensor t) {
    Storage s = storage.get(t);
    if (s == null) throw new IllegalArgumentException("tensor '" + t.name() + "' has no storage (not used by any op)");
    return s;
  }

  /** Arena offset of the op's scratch memory; only for ops that asked for some. */
  public int scratchOffset(Op op) {
    Integer off = scratchOffsets.get(op);
    if (off == null) throw new IllegalArgumentException("op " + op + " has no scratch memory");
    return off;
  }

  public MemoryPlan memoryPlan() { return plan; }

  /**
   * The same planner run with model inputs and outputs in the arena too: comparable with planners
   * (TFLM, the shared manifests' liveness figures) that count I/O as activations.
   */
  public MemoryPlan memoryPlanWithIo() { return planWithIo; }

  public int arenaBytes() { return plan.arenaBytes(); }

  public long compileNanos() { return compileNanos; }

  /** Ops in the model as loaded, before compile-time folding. */
  public int sourceOps() { return sourceOps; }

  /** Ops evaluated at compile time ({@link ConstantFolding}); {@link #graph()} holds the rest. */
  public int foldedOps() { return foldedOps; }
}
