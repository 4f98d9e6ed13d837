package dev.kiln.compile;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compile pipeline, top to bottom: verify the graph, fold what is constant at compile time
 * ({@link ConstantFolding}), check every op against its kernel (so
 * nothing is written for a model that cannot be built), resolve storage (views alias their
 * source), measure lifetimes and plan the arena.
 */
public final class Compiler {
  private Compiler() {}

  public static CompiledModel compile(Graph graph, OpSupport kernels) throws CompileException {
    long start = System.nanoTime();
    graph.verify();
    int sourceOps = graph.ops().size();
    ConstantFolding.Result folding = ConstantFolding.fold(graph);
    graph = folding.graph();
    checkShapesDerived(graph);
    checkOps(graph, kernels);
    Map<Tensor, Storage> storage = new HashMap<>();
    Map<Tensor, Tensor> root = resolveRoots(graph, storage);
    Map<String, Object> owners = new LinkedHashMap<>();
    List<MemoryPlan.Buffer> buffers = lifetimes(graph, root, owners, kernels);
    MemoryPlan plan = MemoryPlan.plan(buffers);
    Map<Op, Integer> scratch = new HashMap<>();
    for (MemoryPlan.Placement p : plan.placements()) {
      Object owner = owners.get(p.buffer().name());
      if (owner instanceof Op op) scratch.put(op, p.offset());
      else if (owner instanceof Tensor t) storage.put(t, new Storage.Arena(p.offset()));
    }
    for (Map.Entry<Tensor, Tensor> e : root.entrySet()) {
      if (e.getKey() != e.getValue()) storage.put(e.getKey(), storage.get(e.getValue()));
    }
    MemoryPlan withIo = MemoryPlan.plan(withInputsAndOutputs(graph, root, buffers));
    return new CompiledModel(graph, storage, scratch, plan, withIo, System.nanoTime() - start, sourceOps, folding.folded());
  }

  private static void checkOps(Graph graph, OpSupport kernels) throws CompileException {
    for (Op op : graph.ops()) {
      if (op.type().isView()) {
        Tensor in = op.input(0);
        if (in.dtype() != op.output().dtype() || in.byteSize() != op.output().byteSize()) {
          throw new CompileException("op #" + op.index() + " " + op.type() + " changes " + in + " into " + op.output()
              + ": a reshape must keep dtype and element count");
        }
        continue;
      }
      try {
        kernels.check(op);
      } catch (UnsupportedOperationException | IllegalArgumentException | IllegalStateException e) {
        throw new CompileException("op #" + op.index() + " " + op.type() + " (" + describe(op) + ") cannot be compiled: " + e.getMessage());
      } catch (IndexOutOfBoundsException e) {
        // a kernel's checks read a dimension the (malformed) model's tensor does not have
        throw new CompileException("op #" + op.index() + " " + op.type() + " (" + describe(op) + ") cannot be compiled: its tensors'"
            + " ranks " + ranks(op) + " do not fit " + op.type() + " (" + e.getMessage() + ")");
      }
    }
  }

  /** A dynamic activation whose shape {@link ShapeInference} could not re-derive is refused, naming it. */
  private static void checkShapesDerived(Graph graph) throws CompileException {
    for (Op op : graph.ops()) {
      for (Tensor t : op.outputs()) {
        if (!t.hasDynamicShape()) continue;
        throw new CompileException("op #" + op.index() + " " + op.type() + " (" + describe(op) + ") cannot be compiled: its output '"
            + t.name() + "' has a dynamic shape (a -1 in its shape signature) and its inputs' shapes changed when Kiln re-derived "
            + "them, but Kiln cannot re-derive " + op.type() + "'s output from them (an op Kiln does not derive shapes for, or "
            + "padding the file resolved for other spatial sizes); convert the model with static shapes");
      }
    }
  }

  private static String ranks(Op op) {
    StringBuilder sb = new StringBuilder();
    for (Tensor t : op.inputs()) if (t != null) sb.append(sb.length() == 0 ? "" : ", ").append(t.rank());
    if (op.outputs().isEmpty()) return sb.append(" -> (no outputs)").toString();
    return sb.append(" -> ").append(op.output().rank()).toString();
  }

  private static String describe(Op op) {
    StringBuilder sb = new StringBuilder();
    for (Tensor t : op.inputs()) if (t != null) sb.append(sb.length() == 0 ? "" : ", ").append(t.name()).append(' ').append(t.dtype());
    if (op.outputs().isEmpty()) return sb.append(" -> (no outputs)").toString();
    return sb.append(" -> ").append(op.output().name()).append(' ').append(op.output().dtype()).toString();
  }

  /**
   * Fixes the storage of model inputs, outputs and constants, and maps every tensor to the tensor
   * that owns its bytes: a view's output shares its source's bytes unless it is a model output
   * (then the view becomes a copy into the caller's buffer).
   */
  private static Map<Tensor, Tensor> resolveRoots(Graph graph, Map<Tensor, Storage> storage) {
    for (int i = 0; i < graph.inputs().size(); i++) storage.put(graph.inputs().get(i), new Storage.Input(i));
    for (int j = 0; j < graph.outputs().size(); j++) storage.putIfAbsent(graph.outputs().get(j), new Storage.Output(j));
    Map<Tensor, Tensor> root = new LinkedHashMap<>();
    for (Tensor t : graph.tensors()) {
      if (t.isConstant()) storage.put(t, new Storage.Constant(t.id()));
      if (t.isVariable()) storage.put(t, new Storage.Variable(t.id()));
    }
    for (Op op : graph.ops()) {
      for (Tensor in : op.inputs()) if (in != null) root.putIfAbsent(in, in);
      for (Tensor out : op.outputs()) {
        boolean alias = op.type().isView() && !storage.containsKey(out);
        root.put(out, alias ? root.get(op.input(0)) : out);
      }
    }
    return root;
  }

  /** One buffer per arena-resident root tensor (first write to last read of any alias) and per scratch request. */
  private static List<MemoryPlan.Buffer> lifetimes(Graph graph, Map<Tensor, Tensor> root, Map<String, Object> owners, OpSupport kernels) {
    Map<Tensor, int[]> span = new LinkedHashMap<>();
    for (Op op : graph.ops()) {
      for (Tensor out : op.outputs()) {
        Tensor r = root.get(out);
        if (isArena(r, graph)) span.computeIfAbsent(r, k -> new int[] {op.index(), op.index()});
      }
      for (Tensor in : op.inputs()) {
        if (in == null) continue;
        Tensor r = root.get(in);
        if (isArena(r, graph)) span.get(r)[1] = Math.max(span.get(r)[1], op.index());
      }
    }
    List<MemoryPlan.Buffer> buffers = new ArrayList<>();
    for (Map.Entry<Tensor, int[]> e : span.entrySet()) {
      Tensor t = e.getKey();
      buffers.add(new MemoryPlan.Buffer(t.cName(), t.byteSize(), e.getValue()[0], e.getValue()[1]));
      owners.put(t.cName(), t);
    }
    for (Op op : graph.ops()) {
      if (op.type().isView()) continue;
      int bytes = kernels.scratchBytes(op);
      if (bytes > 0) {
        String name = "scratch_op" + op.index();
        buffers.add(new MemoryPlan.Buffer(name, bytes, op.index(), op.index()));
        owners.put(name, op);
      }
    }
    return buffers;
  }

  /**
   * The arena buffers plus model inputs (live until their last reader) and outputs (live from
   * their producer to the end): the figure to set beside planners that keep I/O in the arena.
   */
  private static List<MemoryPlan.Buffer> withInputsAndOutputs(Graph graph, Map<Tensor, Tensor> root, List<MemoryPlan.Buffer> arena) {
    List<MemoryPlan.Buffer> all = new ArrayList<>(arena);
    int last = Math.max(0, graph.ops().size() - 1);
    for (Tensor in : graph.inputs()) {
      int lastUse = 0;
      for (Op op : graph.ops()) for (Tensor t : op.inputs()) if (t != null && root.get(t) == in) lastUse = op.index();
      all.add(new MemoryPlan.Buffer("input:" + in.cName(), in.byteSize(), 0, lastUse));
    }
    for (Tensor out : graph.outputs()) {
      int first = graph.producer(out).map(Op::index).orElse(0);
      all.add(new MemoryPlan.Buffer("output:" + out.cName(), out.byteSize(), first, last));
    }
    return all;
  }

  private static boolean isArena(Tensor t, Graph graph) {
    return !t.isConstant() && !t.isVariable() && !graph.inputs().contains(t) && !graph.outputs().contains(t);
  }
}
