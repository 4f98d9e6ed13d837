package dev.kiln.codegen;

import dev.kiln.compile.CompiledModel;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled model as TVM's graph executor sees it (microtvm-facts 4.1-4.3): one "null" node per
 * model input, named exactly as the model names it, in model order (these are the arg_nodes: Kiln
 * links constants into the code, so there are no parameter nodes); one "tvm_op" node per op, named
 * after its output tensor, calling its packed function with its activation inputs (constants are
 * not arguments) then its outputs; heads = model outputs in model order; attrs dltype, storage_id,
 * shape per entry; node_row_ptr.
 *
 * <p>Storage: a view (RESHAPE) shares its source's storage id, so its function finds both pointers
 * equal and copies nothing. Model inputs and outputs keep storage of their own for the executor's
 * life (set_input before run and get_output after it stay valid); every other entry reuses a storage
 * id freed by an entry whose last reader ran before it is written (smallest free pool that fits,
 * else the largest free one, grown). Immutable.
 */
public final class GraphJson {
  private final String text;
  private final int[] storageIds;
  private final long[] poolBytes;
  private final int nodes;

  private GraphJson(String text, int[] storageIds, long[] poolBytes, int nodes) {
    this.text = text;
    this.storageIds = storageIds;
    this.poolBytes = poolBytes;
    this.nodes = nodes;
  }

  /**
   * The graph of {@code model} whose op nodes call {@code functions} (every op must have one).
   *
   * @throws IllegalArgumentException if a model output is a constant (there is no entry to name)
   */
  public static GraphJson of(CompiledModel model, Map<Op, String> functions) {
    Graph g = model.graph();
    // nodes and entries: inputs first, then one node per op
    Map<Tensor, Integer> entryOf = new IdentityHashMap<>();
    List<Tensor> entries = new ArrayList<>();
    StringBuilder nodes = new StringBuilder();
    List<Integer> rowPtr = new ArrayList<>();
    int node = 0;
    for (Tensor t : g.inputs()) {
      rowPtr.add(entries.size());
      if (!entryOf.containsKey(t)) entryOf.put(t, entries.size());
      entries.add(t);
      nodes.append(node == 0 ? "" : ",").append("{\"op\":\"null\",\"name\":").append(quote(t.name()))
          .append(",\"inputs\":[]}");
      node++;
    }
    Map<Integer, Integer> entryNode = new HashMap<>();
    for (int i = 0; i < entries.size(); i++) entryNode.put(i, i);
    for (Op op : g.ops()) {
      String fn = functions.get(op);
      if (fn == null) throw new IllegalArgumentException("op " + op + " has no packed function");
      List<Tensor> in = activationInputs(op);
      StringBuilder inputs = new StringBuilder();
      for (Tensor t : in) {
        Integer e = entryOf.get(t);
        if (e == null) throw new IllegalStateException("op " + op + " reads " + t.describeNames() + " before it is written");
        int producer = entryNode.get(e);
        inputs.append(inputs.length() == 0 ? "" : ",").append('[').append(producer).append(",")
            .append(e - rowPtr.get(producer)).append(",0]");
      }
      rowPtr.add(entries.size());
      for (Tensor t : op.outputs()) {
        entryOf.put(t, entries.size());
        entryNode.put(entries.size(), node);
        entries.add(t);
      }
      // (the first node is an op's when the model has no run-time inputs)
      nodes.append(node == 0 ? "" : ",").append("{\"op\":\"tvm_op\",\"name\":").append(quote(op.outputs().isEmpty() ? fn : op.output().name()))
          .append(",\"attrs\":{\"func_name\":").append(quote(fn)).append(",\"num_inputs\":\"").append(in.size())
          .append("\",\"num_outputs\":\"").append(op.outputs().size()).append("\",\"flatten_data\":\"0\"},\"inputs\":[")
          .append(inputs).append("]}");
      node++;
    }
    rowPtr.add(entries.size());
    StringBuilder heads = new StringBuilder();
    for (Tensor t : g.outputs()) {
      Integer e = entryOf.get(t);
      if (e == null) {
        throw new IllegalArgumentException("model output " + t.describeNames() + " is a constant; the graph executor "
            + "needs every output to be written by an op or to be a model input");
      }
      int producer = entryNode.get(e);
      heads.append(heads.length() == 0 ? "" : ",").append('[').append(producer).append(",")
          .append(e - rowPtr.get(producer)).append(",0]");
    }
    int[] storage = planStorage(model, entries, entryOf);
    long[] pools = new long[0];
    for (int e = 0; e < entries.size(); e++) {
      if (storage[e] >= pools.length) pools = java.util.Arrays.copyOf(pools, storage[e] + 1);
      pools[storage[e]] = Math.max(pools[storage[e]], entries.get(e).byteSize());
    }
    StringBuilder s = new StringBuilder("{\"nodes\":[").append(nodes).append("],\"arg_nodes\":[");
    for (int i = 0; i < g.inputs().size(); i++) s.append(i == 0 ? "" : ",").append(i);
    s.append("],\"heads\":[").append(heads).append("],\"attrs\":{\"dltype\":[\"list_str\",[");
    for (int e = 0; e < entries.size(); e++) s.append(e == 0 ? "" : ",").append(quote(entries.get(e).dtype().numpyName()));
    s.append("]],\"storage_id\":[\"list_int\",[");
    for (int e = 0; e < entries.size(); e++) s.append(e == 0 ? "" : ",").append(storage[e]);
    s.append("]],\"shape\":[\"list_shape\",[");
    for (int e = 0; e < entries.size(); e++) {
      s.append(e == 0 ? "" : ",").append('[');
      int[] shape = entries.get(e).shape();
      for (int d = 0; d < shape.length; d++) s.append(d == 0 ? "" : ",").append(shape[d]);
      s.append(']');
    }
    s.append("]]},\"node_row_ptr\":[");
    for (int i = 0; i < rowPtr.size(); i++) s.append(i == 0 ? "" : ",").append(rowPtr.get(i));
    s.append("]}");
    return new GraphJson(s.toString(), storage, pools, node);
  }

  /** The op's inputs that are graph entries, in order, each once: activations, not constants. */
  static List<Tensor> activationInputs(Op op) {
    List<Tensor> in = new ArrayList<>();
    for (Tensor t : op.inputs()) {
      // constants and variables are linked into the op functions, not graph entries
      if (t != null && !t.isConstant() && !t.isVariable() && !in.contains(t)) in.add(t);
    }
    return in;
  }

  /** A storage id per entry: views share, model inputs and outputs are pinned, the rest reuse freed pools. */
  private static int[] planStorage(CompiledModel model, List<Tensor> entries, Map<Tensor, Integer> entryOf) {
    Graph g = model.graph();
    // alias groups: a view's output joins the group of its (activation) input
    Map<Tensor, Tensor> group = new IdentityHashMap<>();
    for (Tensor t : g.inputs()) group.put(t, t);
    for (Op op : g.ops()) {
      for (Tensor out : op.outputs()) {
        Tensor in = op.input(0);
        boolean share = op.type().isView() && in != null && !in.isConstant() && group.containsKey(in);
        group.put(out, share ? group.get(in) : out);
      }
    }
    Map<Tensor, int[]> span = new LinkedHashMap<>(); // group root -> {first op (-1 = before run), last reader}
    Map<Tensor, Long> bytes = new IdentityHashMap<>();
    Map<Tensor, Boolean> pinned = new IdentityHashMap<>();
    for (Tensor t : g.inputs()) {
      span.put(t, new int[] {-1, -1});
      pinned.put(t, true);
    }
    for (Op op : g.ops()) {
      for (Tensor in : activationInputs(op)) {
        int[] s = span.get(group.get(in));
        s[1] = Math.max(s[1], op.index());
      }
      for (Tensor out : op.outputs()) {
        Tensor root = group.get(out);
        span.computeIfAbsent(root, k -> new int[] {op.index(), op.index()});
      }
    }
    for (Tensor t : entries) {
      Tensor root = group.get(t);
      bytes.merge(root, (long) t.byteSize(), Math::max);
      if (g.inputs().contains(t) || g.outputs().contains(t)) pinned.put(root, true);
    }
    Map<Tensor, Integer> storageOf = new IdentityHashMap<>();
    List<Long> sizes = new ArrayList<>();
    List<Integer> free = new ArrayList<>();
    List<Tensor> live = new ArrayList<>();
    for (Tensor t : g.inputs()) {
      Tensor root = group.get(t);
      if (!storageOf.containsKey(root)) {
        storageOf.put(root, sizes.size());
        sizes.add(bytes.get(root));
      }
    }
    for (Op op : g.ops()) {
      for (int i = live.size() - 1; i >= 0; i--) {
        Tensor root = live.get(i);
        if (span.get(root)[1] < op.index()) {
          free.add(storageOf.get(root));
          live.remove(i);
        }
      }
      for (Tensor out : op.outputs()) {
        Tensor root = group.get(out);
        if (storageOf.containsKey(root)) continue;
        long need = bytes.get(root);
        int id = -1;
        if (!pinned.getOrDefault(root, false)) {
          for (int f : free) if (sizes.get(f) >= need && (id < 0 || sizes.get(f) < sizes.get(id))) id = f;
          if (id < 0) for (int f : free) if (id < 0 || sizes.get(f) > sizes.get(id)) id = f;
        }
        if (id >= 0) {
          free.remove(Integer.valueOf(id));
          sizes.set(id, Math.max(sizes.get(id), need));
        } else {
          id = sizes.size();
          sizes.add(need);
        }
        storageOf.put(root, id);
        if (!pinned.getOrDefault(root, false)) live.add(root);
      }
    }
    int[] ids = new int[entries.size()];
    for (int e = 0; e < entries.size(); e++) ids[e] = storageOf.get(group.get(entries.get(e)));
    return ids;
  }

  /** The JSON text, as {@code tvm.graph_executor.create} takes it. */
  public String text() { return text; }

  public int nodeCount() { return nodes; }

  /** Storage id of each entry, in entry order. */
  public int[] storageIds() { return storageIds.clone(); }

  /** Bytes of each storage pool (the largest entry on it). */
  public long[] poolBytes() { return poolBytes.clone(); }

  /** Device memory the executor allocates for the pools (each rounded up to 16 bytes). */
  public long totalPoolBytes() {
    long n = 0;
    for (long b : poolBytes) n += (b + 15) / 16 * 16;
    return n;
  }

  /**
   * An empty params blob (facts 4.2: list magic, reserved, 0 names, 0 arrays): Kiln links every
   * constant into the code, so {@code load_params} has nothing to load but accepts it.
   */
  public static byte[] emptyParams() {
    return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putLong(0xF7E58D4F05049CB7L).putLong(0).putLong(0)
        .putLong(0).array();
  }

  /** A JSON string literal: quote, backslash and control characters escaped; other characters as they are. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20) sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.append('"').toString();
  }

  @Override public String toString() { return text; }
}
