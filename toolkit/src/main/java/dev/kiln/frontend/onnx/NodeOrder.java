package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The order nodes are lowered in. ONNX requires a topologically sorted node list, but exporters
 * and onnx.checker let through files where a node reads a Constant that comes later (torch's
 * float MobileNetV2: a Conv, then its Clip's bound Constants, then the Clip); so Kiln sorts
 * itself, stably (a node keeps its place unless an input forces it later), and puts the nodes
 * computed only from constants first, so a node can look at the constants its readers use (a
 * Clip's bounds when fusing it into the Conv before it). A cycle is refused.
 */
final class NodeOrder {
  private NodeOrder() {}

  /**
   * The nodes in lowering order.
   *
   * @param available names that need no node: initializers and the model's run-time inputs
   * @param constants names known at compile time (initializers)
   */
  static List<Proto.Node> sort(String file, List<Proto.Node> nodes, Set<String> available, Set<String> constants)
      throws ModelFormatException {
    Map<String, Proto.Node> producer = new HashMap<>();
    for (Proto.Node n : nodes) for (String o : n.outputs()) if (!o.isEmpty()) producer.putIfAbsent(o, n);
    // constant nodes: every input known at compile time (no inputs at all: Constant)
    Set<String> known = new HashSet<>(constants);
    boolean[] constant = new boolean[nodes.size()];
    for (boolean grew = true; grew; ) {
      grew = false;
      for (Proto.Node n : nodes) {
        if (constant[pos(nodes, n)]) continue;
        boolean all = true;
        for (String in : n.inputs()) all &= in.isEmpty() || known.contains(in);
        if (all && !n.opType().startsWith("Random") && !n.opType().equals("Multinomial") && !n.opType().equals("Bernoulli")) {
          constant[pos(nodes, n)] = true;
          for (String o : n.outputs()) if (!o.isEmpty()) known.add(o);
          grew = true;
        }
      }
    }
    // Kahn's algorithm, smallest (constant first, then position) ready node first
    int[] waiting = new int[nodes.size()];
    Map<String, List<Proto.Node>> readers = new HashMap<>();
    for (Proto.Node n : nodes) {
      Set<String> needs = new HashSet<>();
      for (String in : n.inputs()) {
        if (in.isEmpty() || available.contains(in) && !producer.containsKey(in)) continue;
        Proto.Node p = producer.get(in);
        if (p == null) continue; // unknown names fail later, naming the reader
        if (needs.add(in)) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
      waiting[pos(nodes, n)] = needs.size();
    }
    PriorityQueue<Proto.Node> ready = new PriorityQueue<>((a, b) -> {
      int ca = constant[pos(nodes, a)] ? 0 : 1;
      int cb = constant[pos(nodes, b)] ? 0 : 1;
      return ca != cb ? Integer.compare(ca, cb) : Integer.compare(pos(nodes, a), pos(nodes, b));
    });
    for (Proto.Node n : nodes) if (waiting[pos(nodes, n)] == 0) ready.add(n);
    List<Proto.Node> order = new ArrayList<>(nodes.size());
    Set<String> done = new HashSet<>();
    while (!ready.isEmpty()) {
      Proto.Node n = ready.poll();
      order.add(n);
      for (String o : n.outputs()) {
        if (o.isEmpty() || producer.get(o) != n || !done.add(o)) continue;
        for (Proto.Node r : readers.getOrDefault(o, List.of())) if (--waiting[pos(nodes, r)] == 0) ready.add(r);
      }
    }
    if (order.size() < nodes.size()) {
      // the nodes left wait on a cycle; drop those no other waiting node reads until only cycles remain
      Set<Proto.Node> left = new java.util.LinkedHashSet<>();
      for (Proto.Node n : nodes) if (waiting[pos(nodes, n)] > 0) left.add(n);
      for (boolean shrank = true; shrank; ) {
        shrank = false;
        for (java.util.Iterator<Proto.Node> it = left.iterator(); it.hasNext(); ) {
          Proto.Node n = it.next();
          boolean read = false;
          for (String o : n.outputs()) for (Proto.Node r : readers.getOrDefault(o, List.of())) read |= left.contains(r);
          if (!read) {
            it.remove();
            shrank = true;
          }
        }
      }
      List<String> cycle = new ArrayList<>();
      for (Proto.Node n : left) if (cycle.size() < 4) cycle.add(n.label());
      throw new ModelFormatException(file, "the graph has a cycle: " + String.join(", ", cycle)
          + (left.size() > cycle.size() ? " and " + (left.size() - cycle.size()) + " more" : "")
          + " wait on each other's outputs; an ONNX graph must be acyclic (loops belong in a Loop node)");
    }
    return order;
  }

  /** Nodes carry their position in the file's node list. */
  private static int pos(List<Proto.Node> nodes, Proto.Node n) {
    return n.index();
  }
}
