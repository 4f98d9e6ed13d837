package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An immutable model: tensors, ops in execution order, and the model's inputs and outputs in the
 * model's own order. Every tensor is reachable by its model name, its C name or an alias.
 */
public final class Graph {
  private final String name;
  private final String source;
  private final List<Tensor> tensors;
  private final List<Op> ops;
  private final List<Tensor> inputs;
  private final List<Tensor> outputs;
  private final List<String> notes;

  private Graph(String name, String source, List<Tensor> tensors, List<Op> ops, List<Tensor> inputs, List<Tensor> outputs,
                List<String> notes) {
    this.notes = List.copyOf(notes);
    this.name = name;
    this.source = source;
    this.tensors = List.copyOf(tensors);
    this.ops = List.copyOf(ops);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  public static Builder builder(String name, String source) { return new Builder(name, source); }

  /** The model's name (usually the file's base name). */
  public String name() { return name; }

  /** Where the model came from (a file path), for messages. */
  public String source() { return source; }

  public List<Tensor> tensors() { return tensors; }

  public List<Op> ops() { return ops; }

  public List<Tensor> inputs() { return inputs; }

  public List<Tensor> outputs() { return outputs; }

  /**
   * What the frontend interpreted rather than read literally (a quirk of the file that TFLite
   * Micro accepts, e.g. a bias quantized along a dimension it does not have), one sentence each.
   */
  public List<String> notes() { return notes; }

  /** The same graph with another op list (a pass's result); ops are renumbered in order. */
  public Graph withOps(List<Op> newOps) {
    List<Op> renumbered = new ArrayList<>();
    for (int i = 0; i < newOps.size(); i++) renumbered.add(newOps.get(i).withIndex(i));
    Graph g = new Graph(name, source, tensors, renumbered, inputs, outputs, notes);
    g.verify();
    return g;
  }

  /**
   * The same graph with some activations turned into constants holding {@code values} (compile-time
   * folding) and {@code newOps} as its op list; every reference to a folded tensor now sees the
   * constant. Tensors keep their ids and C names; ops are renumbered in order.
   */
  public Graph withConstants(Map<Tensor, byte[]> values, List<Op> newOps) {
    Map<Tensor, Tensor> replaced = new HashMap<>();
    List<Tensor> newTensors = new ArrayList<>(tensors.size());
    for (Tensor t : tensors) {
      byte[] v = values.get(t);
      Tensor n = v == null ? t : t.toBuilder().data(v.clone()).build();
      replaced.put(t, n);
      newTensors.add(n);
    }
    java.util.function.Function<List<Tensor>, List<Tensor>> map = list -> {
      List<Tensor> out = new ArrayList<>(list.size());
      for (Tensor t : list) out.add(t == null ? null : replaced.getOrDefault(t, t));
      return out;
    };
    List<Op> renumbered = new ArrayList<>();
    for (int i = 0; i < newOps.size(); i++) {
      Op op = newOps.get(i);
      renumbered.add(new Op(i, op.type(), map.apply(op.inputs()), map.apply(op.outputs()), op.options()));
    }
    Graph g = new Graph(name, source, newTensors, renumbered, map.apply(inputs), map.apply(outputs), notes);
    g.verify();
    return g;
  }

  /**
   * The same graph with some tensors replaced by others (same id and names, e.g. a re-derived
   * shape) everywhere they appear; ops keep their order and indices.
   */
  public Graph withTensors(Map<Tensor, Tensor> replacements) {
    java.util.function.Function<List<Tensor>, List<Tensor>> map = list -> {
      List<Tensor> out = new ArrayList<>(list.size());
      for (Tensor t : list) out.add(t == null ? null : replacements.getOrDefault(t, t));
      return out;
    };
    List<Op> newOps = new ArrayList<>();
    for (Op op : ops) newOps.add(new Op(op.index(), op.type(), map.apply(op.inputs()), map.apply(op.outputs()), op.options()));
    Graph g = new Graph(name, source, map.apply(tensors), newOps, map.apply(inputs), map.apply(outputs), notes);
    g.verify();
    return g;
  }

  /** Finds a tensor by exact model name first, then C name, then alias. */
  public Optional<Tensor> find(String anyName) {
    for (Tensor t : tensors) if (t.name().equals(anyName)) return Optional.of(t);
    for (Tensor t : tensors) if (t.cName().equals(anyName)) return Optional.of(t);
    for (Tensor t : tensors) if (t.aliases().contains(anyName)) return Optional.of(t);
    return Optional.empty();
  }

  /** The op that produces {@code t}, if any. */
  public Optional<Op> producer(Tensor t) {
    for (Op op : ops) if (op.outputs().contains(t)) return Optional.of(op);
    return Optional.empty();
  }

  /** Ops that read {@code t}, in order. */
  public List<Op> consumers(Tensor t) {
    return ops.stream().filter(op -> op.inputs().contains(t)).collect(Collectors.toList());
  }

  /**
   * The ops of this graph and, depth first after each control-flow op, those of the subgraphs it
   * runs (a subgraph two ops share is listed once).
   */
  public List<Op> opsWithSubgraphs() {
    List<Op> all = new ArrayList<>();
    collectOps(this, all, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
    return all;
  }

  private static void collectOps(Graph g, List<Op> all, Set<Graph> seen) {
    if (!seen.add(g)) return;
    for (Op op : g.ops) {
      all.add(op);
      if (op.options() instanceof Options.Subgraphs s) for (Graph sub : s.graphs()) collectOps(sub, all, seen);
    }
  }

  /** Bytes of all constant tensors that some op reads, those of subgraphs that control-flow ops run included. */
  public long weightBytes() {
    Set<Tensor> used = new LinkedHashSet<>();
    for (Op op : opsWithSubgraphs()) for (Tensor t : op.inputs()) if (t != null && t.isConstant()) used.add(t);
    return used.stream().mapToLong(Tensor::byteSize).sum();
  }

  /** Op type counts in first-appearance order. */
  public Map<OpType, Integer> opCounts() {
    Map<OpType, Integer> counts = new java.util.LinkedHashMap<>();
    for (Op op : ops) counts.merge(op.type(), 1, Integer::sum);
    return counts;
  }

  /**
   * Checks the structural invariants: each activation is produced once, before it is read, and
   * every op input is a constant, a graph input or an earlier output.
   */
  public void verify() {
    Set<Tensor> ready = new HashSet<>(inputs);
    for (Tensor t : tensors) if (t.isConstant() || t.isVariable()) ready.add(t);
    Set<Tensor> produced = new HashSet<>();
    for (Op op : ops) {
      for (Tensor t : op.inputs()) {
        if (t != null && !ready.contains(t)) {
          throw new IllegalStateException("op " + op + " reads '" + t.name() + "' before any op produces it");
        }
      }
      for (Tensor t : op.outputs()) {
        if (!produced.add(t) || inputs.contains(t) || t.isConstant()) {
          throw new IllegalStateException("op " + op + " writes '" + t.name() + "', which is already defined");
        }
        ready.add(t);
      }
    }
    for (Tensor t : outputs) {
      if (!ready.contains(t)) throw new IllegalStateException("model output '" + t.name() + "' is never produced");
    }
  }

  @Override public String toString() {
    return name + ": " + inputs.size() + " inputs, " + outputs.size() + " outputs, " + ops.size() + " ops";
  }

  /** Collects tensors and ops by index, then assigns ids and unique C names in {@link #build()}. */
  public static final class Builder {
    private final String name;
    private final String source;
    private final List<Tensor.Builder> tensors = new ArrayList<>();
    private final List<Object[]> ops = new ArrayList<>();
    private final Map<Integer, List<String>> aliases = new HashMap<>();
    private int[] inputs = new int[0];
    private int[] outputs = new int[0];
    private final List<String> notes = new ArrayList<>();
    private final Map<Integer, String> fixedCNames = new HashMap<>();

    private Builder(String name, String source) {
      this.name = name;
      this.source = source;
    }

    /** Adds a tensor; returns its index. */
    public int addTensor(Tensor.Builder t) {
      tensors.add(t);
      return tensors.size() - 1;
    }

    public int tensorCount() { return tensors.size(); }

    public Tensor.Builder tensor(int index) { return tensors.get(index); }

    /** Adds an op reading {@code in} (-1 = absent optional input) and writing {@code out}. */
    public Builder addOp(OpType type, int[] in, int[] out, Options options) {
      ops.add(new Object[] {type, in.clone(), out.clone(), options});
      return this;
    }

    public Builder inputs(int... idx) { this.inputs = idx.clone(); return this; }

    public Builder outputs(int... idx) { this.outputs = idx.clone(); return this; }

    /** Records something the frontend interpreted (see {@link Graph#notes()}). */
    public Builder note(String sentence) {
      notes.add(sentence);
      return this;
    }

    /**
     * Gives a tensor a C name chosen by the frontend instead of one derived from its model name (a
     * resource variable's tensor, which every subgraph names alike so they share one buffer).
     */
    public Builder fixedCName(int tensor, String cName) {
      fixedCNames.put(tensor, cName);
      return this;
    }

    public Builder alias(int tensor, String alias) {
      aliases.computeIfAbsent(tensor, k -> new ArrayList<>()).add(alias);
      return this;
    }

    public Graph build() {
      // C names: inputs first, then outputs, then the rest, so I/O get the plain spelling.
      Set<Integer> ordered = new LinkedHashSet<>();
      for (int i : inputs) ordered.add(i);
      for (int i : outputs) ordered.add(i);
      for (int i = 0; i < tensors.size(); i++) ordered.add(i);
      List<Integer> order = new ArrayList<>(ordered);
      List<String> cNames = new ArrayList<>(CNames.allocate(order.stream().map(i -> tensors.get(i).build().name()).collect(Collectors.toList())));
      for (int k = 0; k < order.size(); k++) {
        String fixed = fixedCNames.get(order.get(k));
        if (fixed != null) cNames.set(k, fixed);
      }
      Tensor[] built = new Tensor[tensors.size()];
      for (int k = 0; k < order.size(); k++) {
        int i = order.get(k);
        built[i] = tensors.get(i).id(i).cName(cNames.get(k)).aliases(aliases.getOrDefault(i, List.of())).build();
      }
      List<Op> builtOps = new ArrayList<>();
      for (int k = 0; k < ops.size(); k++) {
        Object[] o = ops.get(k);
        List<Tensor> in = new ArrayList<>();
        for (int i : (int[]) o[1]) in.add(i < 0 ? null : built[i]);
        List<Tensor> out = new ArrayList<>();
        for (int i : (int[]) o[2]) out.add(built[i]);
        builtOps.add(new Op(k, (OpType) o[0], in, out, (Options) o[3]));
      }
      List<Tensor> in = new ArrayList<>();
      for (int i : inputs) in.add(built[i]);
      List<Tensor> out = new ArrayList<>();
      for (int i : outputs) out.add(built[i]);
      Graph g = new Graph(name, source, List.of(built), builtOps, in, out, notes);
      g.verify();
      return g;
    }
  }

}
