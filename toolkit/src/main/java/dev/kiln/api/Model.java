package dev.kiln.api;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A loaded model: its graph, I/O with both names, op counts and sizes. Build it for an executor. */
public final class Model {
  private final Graph graph;
  private final String format;

  Model(Graph graph, String format) {
    this.graph = graph;
    this.format = format;
  }

  public Graph graph() { return graph; }

  public String name() { return graph.name(); }

  /** "tflite" or "onnx". */
  public String format() { return format; }

  public String source() { return graph.source(); }

  public List<TensorInfo> inputs() { return infos(graph.inputs()); }

  public List<TensorInfo> outputs() { return infos(graph.outputs()); }

  public Map<OpType, Integer> opCounts() { return graph.opCounts(); }

  public List<Op> ops() { return graph.ops(); }

  public long weightBytes() { return graph.weightBytes(); }

  /** Compiles the model for {@code executor}; the result can be exported, inspected and (later) flashed. */
  public Build build(Executor executor) {
    Args.notNull(executor, "executor", "build(executor)", "Executor.graph() or Executor.aot() (with .interfaceApi(\"c\").unpackedApi(true) for firmware)");
    return Build.of(this, executor);
  }

  /** Finds an input by model name, C name or alias, with an error that lists every input. */
  public TensorInfo input(String anyName) { return find(anyName, graph.inputs(), "input"); }

  public TensorInfo output(String anyName) { return find(anyName, graph.outputs(), "output"); }

  private static String choices(List<Tensor> list) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < list.size(); i++) sb.append("\n  ").append(i).append(": ").append(TensorInfo.of(i, list.get(i)).describe());
    return sb.toString();
  }

  private static TensorInfo find(String anyName, List<Tensor> list, String kind) {
    Args.notNull(anyName, "name", kind + "(name)", "one of the model's " + kind + " names (model or C name):" + choices(list));
    for (String pass : new String[] {"name", "c", "alias"}) {
      for (int i = 0; i < list.size(); i++) {
        Tensor t = list.get(i);
        boolean hit = switch (pass) {
          case "name" -> t.name().equals(anyName);
          case "c" -> t.cName().equals(anyName);
          default -> t.aliases().contains(anyName);
        };
        if (hit) return TensorInfo.of(i, t);
      }
    }
    StringBuilder sb = new StringBuilder("no " + kind + " named '" + anyName + "'; the model's " + kind + "s are:");
    for (int i = 0; i < list.size(); i++) sb.append("\n  ").append(i).append(": ").append(TensorInfo.of(i, list.get(i)).describe());
    throw new KilnException(sb.toString());
  }

  private static List<TensorInfo> infos(List<Tensor> tensors) {
    List<TensorInfo> out = new ArrayList<>();
    for (int i = 0; i < tensors.size(); i++) out.add(TensorInfo.of(i, tensors.get(i)));
    return out;
  }

  /** The text {@code kiln info} prints. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s (%s, %s)%n", name(), format, source()));
    sb.append("inputs:\n");
    for (TensorInfo t : inputs()) sb.append("  ").append(t.index()).append(": ").append(t.describe()).append('\n');
    sb.append("outputs:\n");
    for (TensorInfo t : outputs()) sb.append("  ").append(t.index()).append(": ").append(t.describe()).append('\n');
    sb.append(String.format(Locale.ROOT, "ops: %d%n", graph.ops().size()));
    for (Map.Entry<OpType, Integer> e : opCounts().entrySet()) {
      sb.append(String.format(Locale.ROOT, "  %-20s %d%n", e.getKey(), e.getValue()));
    }
    // family: control flow (ctrl-flow): the subgraphs each control-flow op runs
    for (Op op : graph.opsWithSubgraphs()) {
      if (!(op.options() instanceof dev.kiln.ir.Options.Subgraphs s)) continue;
      StringBuilder line = new StringBuilder("  op #" + op.index() + " " + op.type() + " runs");
      for (int i = 0; i < s.graphs().size(); i++) {
        line.append(i == 0 ? " " : ", ").append("subgraph ").append(s.indices().get(i)).append(" (")
            .append(s.graph(i).ops().size()).append(" ops)");
      }
      sb.append(line).append('\n');
    }
    sb.append(String.format(Locale.ROOT, "weights: %d bytes in %d constant tensors%n", weightBytes(),
        graph.tensors().stream().filter(Tensor::isConstant).count()));
    if (!graph.notes().isEmpty()) {
      sb.append("interpreted:\n");
      for (String note : graph.notes()) sb.append("  ").append(note).append('\n');
    }
    return sb.toString();
  }

  @Override public String toString() { return graph.toString(); }
}
