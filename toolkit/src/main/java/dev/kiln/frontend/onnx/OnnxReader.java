package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads an ONNX model ({@code .onnx}, IR >= 3, ai.onnx opsets 7 to 28) into an {@link Graph}.
 *
 * <p>Promises: the file is read with a hand-written, bounds-checked protobuf reader (no generated
 * code, no dependency), so any file, however broken, yields a valid graph or a {@link
 * ModelFormatException} whose message names the file, the field, node or input and what was
 * expected; no other exception escapes. Inputs and outputs keep their ONNX names, order, shapes
 * (NCHW) and dtypes; inside, the graph is NHWC (see {@link GraphLowering}). Shapes of everything
 * are inferred here; a model input with a symbolic or unknown dimension needs a concrete shape
 * from the caller ({@code inputShapes}).
 */
public final class OnnxReader {
  /** The ai.onnx opsets whose operator semantics Kiln implements. */
  public static final int MIN_OPSET = 7;
  public static final int MAX_OPSET = 28;

  private static final Set<String> CONTROL_FLOW = Set.of("Loop", "If", "Scan", "SequenceMap");

  private OnnxReader() {}

  public static Graph read(Path file) throws ModelFormatException {
    return read(file, Map.of());
  }

  /**
   * Reads a model file; {@code inputShapes} fixes the shapes of inputs by ONNX name (required for
   * inputs with symbolic dimensions, checked against static ones). External tensor data is read
   * from files next to the model.
   */
  public static Graph read(Path file, Map<String, int[]> inputShapes) throws ModelFormatException {
    return read(file, inputShapes, Map.of());
  }

  /** A value a graph input is compiled with: its shape, dtype and little-endian bytes. */
  public record FixedValue(int[] shape, DType dtype, byte[] bytes) {}

  /**
   * Reads a model file as {@link #read(Path, Map)}, compiling the graph inputs named in {@code constantInputs}
   * as constants of those values (an input the application always feeds the same: they fold like initializers).
   */
  public static Graph read(Path file, Map<String, int[]> inputShapes, Map<String, FixedValue> constantInputs)
      throws ModelFormatException {
    Objects.requireNonNull(file, "file");
    byte[] bytes = readBytes(file);
    Path dir = file.toAbsolutePath().getParent();
    return decode(file.toString(), baseName(file), bytes, dir, inputShapes, constantInputs);
  }

  /** Reads a model from memory (external data cannot be resolved); {@code displayName} appears in messages. */
  public static Graph read(String displayName, byte[] bytes, Map<String, int[]> inputShapes) throws ModelFormatException {
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(bytes, "bytes");
    String name = displayName;
    int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    name = name.substring(slash + 1);
    int dot = name.lastIndexOf('.');
    return decode(displayName, dot > 0 ? name.substring(0, dot) : name, bytes, null, inputShapes, Map.of());
  }

  /** True if the bytes start the way ONNX files do (ModelProto field 1, ir_version, as a varint). */
  public static boolean looksLikeOnnx(byte[] head) {
    return head.length >= 3 && head[0] == 0x08 && head[1] > 0
        && (head[2] == 0x12 || head[2] == 0x1a || head[2] == 0x22 || head[2] == 0x28 || head[2] == 0x32 || head[2] == 0x3a
        || head[2] == 0x42);
  }

  private static Graph decode(String file, String graphName, byte[] bytes, Path dir, Map<String, int[]> inputShapes,
      Map<String, FixedValue> constantInputs) throws ModelFormatException {
    try {
      Graph g = new OnnxReader.Decoder(file, graphName, bytes, dir, inputShapes == null ? Map.of() : inputShapes,
          constantInputs == null ? Map.of() : constantInputs).decode();
      dev.kiln.frontend.ModelLimits.checkGraph(file, g);
      return g;
    } catch (ModelFormatException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      throw new ModelFormatException(file, "Kiln could not import this ONNX model (" + e + "); the file may be corrupt, or this is a"
          + " Kiln bug: please report it with the --debug output", e);
    }
  }

  private static byte[] readBytes(Path file) throws ModelFormatException {
    String shown = file.toString();
    try {
      if (Files.isDirectory(file)) throw new ModelFormatException(shown, "is a directory, not a model file");
      dev.kiln.frontend.ModelLimits.checkFileSize(shown, "model file", Files.size(file)); // before reading any of it
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(shown, "cannot read the model: no such file (looked for " + file.toAbsolutePath() + ")");
    } catch (AccessDeniedException e) {
      throw new ModelFormatException(shown, "cannot read the model: permission denied");
    } catch (IOException e) {
      throw new ModelFormatException(shown, "cannot read the model: " + e.getMessage(), e);
    }
  }

  private static String baseName(Path file) {
    Path last = file.getFileName();
    String name = last == null ? file.toString() : last.toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** One read, top to bottom: header, model, checks that refuse the whole model, inputs, nodes, outputs. */
  private static final class Decoder {
    private final String file;
    private final String graphName;
    private final byte[] bytes;
    private final Path dir;
    private final Map<String, int[]> inputShapes;
    private final Map<String, FixedValue> constantInputs;

    Decoder(String file, String graphName, byte[] bytes, Path dir, Map<String, int[]> inputShapes,
        Map<String, FixedValue> constantInputs) {
      this.file = file;
      this.graphName = graphName;
      this.bytes = bytes;
      this.dir = dir;
      this.inputShapes = inputShapes;
      this.constantInputs = constantInputs;
    }

    Graph decode() throws ModelFormatException {
      checkHeader();
      Proto.Model model = new ModelParser(file, bytes).parse();
      Proto.Graph graph = model.graph();
      if (model.irVersion() < 3) {
        throw error("the model has IR version " + model.irVersion() + (model.irVersion() == 0 ? " (ModelProto.ir_version is missing)" : "")
            + "; Kiln reads IR version 3 and newer (onnx 1.1, 2017, on)");
      }
      checkControlFlow(graph);
      int opset = opset(model, graph);
      checkOperators(model, graph, opset);

      GraphLowering l = new GraphLowering(file, graphName, opset, new TensorDecoder(file, bytes, dir));
      Set<String> initializerNames = new HashSet<>();
      for (Proto.TensorData t : graph.initializers()) {
        l.addInitializer(t);
        initializerNames.add(t.name());
      }
      // runtime inputs: graph inputs that are not initializers (an initializer listed as input is a default)
      List<Proto.ValueInfo> runtime = new ArrayList<>();
      for (Proto.ValueInfo v : graph.inputs()) if (!initializerNames.contains(v.name())) runtime.add(v);
      checkInputShapes(runtime);
      // inputs the caller fixed: constants from here on, so they fold like initializers and leave the model's inputs
      for (Map.Entry<String, FixedValue> e : constantInputs.entrySet()) {
        Proto.ValueInfo v = runtime.stream().filter(x -> x.name().equals(e.getKey())).findFirst().orElse(null);
        if (v == null) {
          StringBuilder sb = new StringBuilder("a constant value was given for input '" + e.getKey() + "', but the model has no such"
              + " run-time input; its inputs are:");
          for (Proto.ValueInfo r : runtime) sb.append("\n  ").append(r.name()).append(' ').append(describe(r));
          throw error(sb.toString());
        }
        FixedValue f = e.getValue();
        DType declared = TensorDecoder.dtype(v.elemType());
        if (declared != f.dtype()) {
          throw error("the constant value given for input '" + v.name() + "' is " + f.dtype().name().toLowerCase(java.util.Locale.ROOT)
              + ", but the model declares " + TensorDecoder.typeName(v.elemType()) + "; give a value of the declared type");
        }
        int[] shape = f.shape();
        // a scalar input given as one element of shape [1] (what a 0-d array often becomes on its way to a file) is that scalar
        if (v.dims() != null && v.dims().isEmpty() && shape.length == 1 && shape[0] == 1) shape = new int[0];
        if (v.dims() != null) {
          boolean ok = v.dims().size() == shape.length;
          for (int d = 0; ok && d < shape.length; d++) ok = !v.dims().get(d).isStatic() || v.dims().get(d).value() == shape[d];
          if (!ok) {
            throw error("the constant value given for input '" + v.name() + "' has shape " + Arrays.toString(f.shape()).replace(" ", "")
                + ", but the model declares " + describe(v) + "; give a value of the declared shape");
          }
        }
        l.addFixedInput(v.name(), new Constant(shape, f.dtype(), f.bytes().clone()));
        initializerNames.add(v.name());
      }
      runtime.removeIf(v -> constantInputs.containsKey(v.name()));
      for (Proto.Node n : graph.nodes()) for (String o : n.outputs()) if (!o.isEmpty()) l.reserveName(o);
      for (Proto.ValueInfo v : runtime) l.reserveName(v.name());

      List<String> outputs = new ArrayList<>();
      List<int[]> declared = new ArrayList<>();
      List<Integer> declaredTypes = new ArrayList<>();
      for (Proto.ValueInfo o : graph.outputs()) {
        outputs.add(o.name());
        declared.add(declaredShape(o));
        declaredTypes.add(o.elemType());
        l.markGraphOutput(o.name());
      }
      if (outputs.isEmpty()) throw error("the graph has no outputs, so there is nothing to compute");
      Set<String> available = new HashSet<>(initializerNames);
      for (Proto.ValueInfo v : runtime) available.add(v.name());
      List<Proto.Node> order = NodeOrder.sort(file, graph.nodes(), available, initializerNames);
      boolean[] live = liveNodes(order, outputs);
      for (Proto.Node n : order) {
        if (!live[n.index()]) continue;
        for (String in : n.inputs()) if (!in.isEmpty()) l.addConsumer(in, n);
        for (String o : n.outputs()) if (!o.isEmpty()) l.addProducer(o, n);
      }

      int[] in = new int[runtime.size()];
      for (int i = 0; i < runtime.size(); i++) {
        Proto.ValueInfo v = runtime.get(i);
        int[] shape = inputShape(v);
        DType type = inputType(v);
        dev.kiln.frontend.ModelLimits.checkTensor(file, "input '" + v.name() + "'", shape, type.byteSize());
        Value value = l.addInput(v.name(), shape, type);
        in[i] = value.phys.index();
      }
      for (Proto.Node n : order) {
        if (!live[n.index()] || l.isTaken(n)) continue;
        Operators.lower(l, n); // folds the node when its inputs are constants and the operator can be folded
      }
      int[] out = l.finishOutputs(outputs, declared, declaredTypes);
      return l.build(in, out);
    }

    private void checkHeader() throws ModelFormatException {
      if (bytes.length == 0) throw error("the file is empty (0 bytes); an ONNX model is a protobuf ModelProto");
      if (bytes.length >= 8 && bytes[4] == 'T' && bytes[5] == 'F' && bytes[6] == 'L' && bytes[7] == '3') {
        throw error("not an ONNX model: this is a TensorFlow Lite model (identifier TFL3 at byte 4); give it a .tflite name"
            + " or load it with the TFLite frontend");
      }
      if (bytes[0] == 'P' && bytes.length > 1 && bytes[1] == 'K') {
        throw error("not an ONNX model: this is a zip archive (a PyTorch .pt file or a zipped model?); export it with"
            + " torch.onnx.export first");
      }
      int n = Math.min(bytes.length, 64);
      boolean text = true;
      for (int i = 0; i < n; i++) {
        int c = bytes[i] & 0xff;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f) text = false;
      }
      if (text && !looksLikeOnnx(bytes)) {
        throw error("not an ONNX model: the file starts with text (\"" + new String(bytes, 0, Math.min(n, 24),
            java.nio.charset.StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", ".") + "\"); an ONNX model is a binary"
            + " protobuf ModelProto (ONNX's text format is not read)");
      }
    }

    private int opset(Proto.Model model, Proto.Graph graph) throws ModelFormatException {
      Long v = model.opsets().get("ai.onnx");
      if (v == null) {
        if (graph.nodes().stream().anyMatch(n -> n.domain().isEmpty() || n.domain().equals("ai.onnx"))) {
          throw error("the model imports no ai.onnx opset (opset_import lists " + model.opsets() + ") but uses ai.onnx operators");
        }
        return MAX_OPSET;
      }
      if (v < MIN_OPSET || v > MAX_OPSET) {
        throw error("the model imports ai.onnx opset " + v + "; Kiln compiles opsets " + MIN_OPSET + " to " + MAX_OPSET
            + " (re-export it within that range, e.g. torch.onnx.export(..., opset_version=17), or convert it with"
            + " onnx.version_converter.convert_version(model, 17))");
      }
      return (int) (long) v;
    }

    private void checkControlFlow(Proto.Graph graph) throws ModelFormatException {
      List<String> found = new ArrayList<>();
      for (Proto.Node n : graph.nodes()) {
        boolean subgraph = n.attributes().stream().anyMatch(a -> a.graphs() > 0);
        if (CONTROL_FLOW.contains(n.opType()) || subgraph) found.add(n.label());
      }
      if (!found.isEmpty()) {
        throw new UnsupportedOperatorException(file, "the graph uses control flow: " + String.join(", ", found)
            + (found.size() == 1 ? " runs a subgraph" : " run subgraphs") + "; Kiln compiles straight-line graphs only (no Loop,"
            + " If or Scan): export the model with its loops unrolled (e.g. torch.jit.trace instead of torch.jit.script)",
            found.get(0), firstIndex(graph, found.get(0)));
      }
    }

    private static int firstIndex(Proto.Graph graph, String label) {
      for (Proto.Node n : graph.nodes()) if (n.label().equals(label)) return n.index();
      return -1;
    }

    private void checkOperators(Proto.Model model, Proto.Graph graph, int opset) throws ModelFormatException {
      Proto.Node first = null;
      Map<String, Integer> others = new TreeMap<>();
      for (Proto.Node n : graph.nodes()) {
        if (Operators.isSupported(n)) continue;
        if (first == null) first = n;
        else if (!key(n).equals(key(first))) others.merge(key(n), 1, Integer::sum);
      }
      if (first == null) return;
      StringBuilder msg = new StringBuilder(first.label());
      boolean defaultDomain = first.domain().isEmpty() || first.domain().equals("ai.onnx");
      if (defaultDomain) {
        msg.append(" uses ai.onnx operator ").append(first.opType()).append(" (opset ").append(opset)
            .append("), which Kiln does not support");
      } else {
        Long v = model.opsets().get(first.domain());
        msg.append(" uses operator ").append(first.opType()).append(" of domain '").append(first.domain()).append("'")
            .append(v == null ? "" : " (opset " + v + ")");
        if (model.localFunctions().contains(first.domain() + ":" + first.opType())) msg.append(", a model-local function,");
        msg.append(" which Kiln does not support");
        if (first.domain().equals("com.microsoft")) {
          msg.append(" (onnxruntime contrib operators appear in ORT-optimized files: export the original model instead)");
        }
      }
      msg.append(": inputs ").append(first.inputs()).append(" -> outputs ").append(first.outputs()).append('.');
      if (!others.isEmpty()) {
        List<String> more = new ArrayList<>();
        others.forEach((k, c) -> more.add(c == 1 ? k : k + " x" + c));
        msg.append(" The model also uses these unsupported operators: ").append(String.join(", ", more)).append('.');
      }
      msg.append(" Supported operators (ai.onnx, opsets ").append(MIN_OPSET).append(" to ").append(MAX_OPSET).append("): ")
          .append(Operators.list()).append('.');
      throw new UnsupportedOperatorException(file, msg.toString(), first.opType(), first.index());
    }

    private static String key(Proto.Node n) {
      return n.domain().isEmpty() || n.domain().equals("ai.onnx") ? n.opType() : n.domain() + "." + n.opType();
    }

    /** Nodes some output depends on, by index; {@code order} is topological. */
    private static boolean[] liveNodes(List<Proto.Node> order, List<String> outputs) {
      Set<String> needed = new HashSet<>(outputs);
      boolean[] live = new boolean[order.size()];
      for (int i = order.size() - 1; i >= 0; i--) {
        Proto.Node n = order.get(i);
        for (String o : n.outputs()) {
          if (!o.isEmpty() && needed.contains(o)) {
            live[n.index()] = true;
            break;
          }
        }
        if (live[n.index()]) for (String in : n.inputs()) if (!in.isEmpty()) needed.add(in);
      }
      return live;
    }

    // ---- inputs --------------------------------------------------------------------------------

    private void checkInputShapes(List<Proto.ValueInfo> runtime) throws ModelFormatException {
      for (String name : inputShapes.keySet()) {
        if (runtime.stream().noneMatch(v -> v.name().equals(name))) {
          StringBuilder sb = new StringBuilder("an input shape was given for '" + name + "', but the model has no such input;"
              + " its inputs are:");
          for (Proto.ValueInfo v : runtime) sb.append("\n  ").append(v.name()).append(' ').append(describe(v));
          throw error(sb.toString());
        }
      }
    }

    private int[] inputShape(Proto.ValueInfo v) throws ModelFormatException {
      if (!v.kind().equals("tensor")) {
        throw error("input '" + v.name() + "' is a " + v.kind() + ", not a tensor; Kiln compiles tensor inputs only");
      }
      int[] given = inputShapes.get(v.name());
      List<Proto.Dim> dims = v.dims();
      if (given != null) {
        for (int d : given) {
          if (d < 1) throw error("the shape given for input '" + v.name() + "' is " + Arrays.toString(given) + "; every dimension must be >= 1");
        }
        if (dims != null) {
          boolean ok = dims.size() == given.length;
          for (int d = 0; ok && d < given.length; d++) ok = !dims.get(d).isStatic() || dims.get(d).value() == given[d];
          if (!ok) {
            throw error("the shape given for input '" + v.name() + "' is " + Arrays.toString(given).replace(" ", "")
                + ", but the model declares " + describe(v) + "; give one that keeps its fixed dimensions");
          }
        }
        return given.clone();
      }
      if (dims == null) {
        throw error("input '" + v.name() + "' has no declared shape (unknown rank); Kiln compiles static shapes: give one, e.g."
            + " Kiln.load(path, LoadOptions.inputShape(\"" + v.name() + "\", 1, 3, 32, 32)) or --input-shape '" + v.name() + "=1,3,32,32'");
      }
      int[] shape = new int[dims.size()];
      List<String> dynamic = new ArrayList<>();
      for (int d = 0; d < shape.length; d++) {
        Proto.Dim dim = dims.get(d);
        if (!dim.isStatic() || dim.value() < 1 || dim.value() > Integer.MAX_VALUE) {
          dynamic.add(d + " (" + (dim.isStatic() ? dim.value() : dim.param() == null || dim.param().isEmpty() ? "unknown" : "'" + dim.param() + "'") + ")");
          shape[d] = 1;
        } else {
          shape[d] = (int) (long) dim.value();
        }
      }
      if (!dynamic.isEmpty()) {
        String example = Arrays.toString(shape).replace(" ", "").replace("[", "").replace("]", "");
        String args = example.replace(",", ", ");
        throw error("input '" + v.name() + "' has shape " + describe(v) + " with dynamic dimension" + (dynamic.size() == 1 ? " " : "s ")
            + String.join(", ", dynamic) + "; Kiln compiles static shapes: fix it when loading, e.g. Kiln.load(path,"
            + " LoadOptions.inputShape(\"" + v.name() + "\", " + args + ")) or kiln ... --input-shape '" + v.name() + "=" + example + "'");
      }
      return shape;
    }

    private DType inputType(Proto.ValueInfo v) throws ModelFormatException {
      DType t = TensorDecoder.dtype(v.elemType());
      if (t == null) {
        throw error("input '" + v.name() + "' has element type " + TensorDecoder.typeName(v.elemType()) + "; Kiln compiles inputs of "
            + TensorDecoder.SUPPORTED_TYPES + TensorDecoder.typeFix(v.elemType()));
      }
      return t;
    }

    private static String describe(Proto.ValueInfo v) {
      if (v.dims() == null) return "[?] (unknown rank)";
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < v.dims().size(); i++) sb.append(i == 0 ? "" : ",").append(v.dims().get(i));
      return sb.append(']').toString();
    }

    /** The output's declared shape, -1 for a symbolic dimension; a dimension no tensor can have is refused. */
    private int[] declaredShape(Proto.ValueInfo v) throws ModelFormatException {
      if (v.dims() == null) return null;
      int[] s = new int[v.dims().size()];
      for (int i = 0; i < s.length; i++) {
        Proto.Dim d = v.dims().get(i);
        if (d.isStatic() && (d.value() < 0 || d.value() > Integer.MAX_VALUE)) {
          throw error("the model declares output '" + v.name() + "' with dimension " + i + " = " + d.value() + "; a dimension is 0 to "
              + Integer.MAX_VALUE + ": fix the output's declared shape");
        }
        s[i] = d.isStatic() ? (int) (long) d.value() : -1;
      }
      return s;
    }

    private ModelFormatException error(String problem) {
      return new ModelFormatException(file, problem);
    }
  }
}
