package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lowers an ONNX graph into an {@code ir.Graph}: values, tensors, layouts and names. Nodes come in
 * {@link NodeOrder}'s order (topological, constants first); each node is folded (all inputs constant) or lowered
 * by its {@link Operators} entry, which may also take over the nodes right after it (an epilogue:
 * BatchNormalization, Relu/Clip, QuantizeLinear) when it is their only reader.
 *
 * <p>Layout: ONNX is NCHW, Kiln's kernels are NHWC. Convolutions and pools read NHWC tensors and
 * leave NHWC tensors; a value only records how its bytes relate to its logical shape ({@link
 * Value}), so Transpose/Reshape/Flatten are free, elementwise ops run in whatever layout their
 * inputs have, a Flatten before a Gemm is folded into the Gemm's weights, and a TRANSPOSE op is
 * emitted only where an op needs another order than the bytes have: in practice at the model's
 * 4-D inputs and outputs (and not even there when the move only involves axes of size 1, which
 * become a free RESHAPE). Model inputs and outputs keep their ONNX names, shapes and NCHW order.
 */
final class GraphLowering {
  final String file;
  final int opset;
  private final Graph.Builder g;
  private final TensorDecoder decoder;
  private final Map<String, Proto.TensorData> initializers = new HashMap<>();
  private final Set<String> fixedInputs = new HashSet<>();
  private final Map<String, Value> values = new HashMap<>();
  private final Set<String> onnxNames = new HashSet<>();
  private final Set<String> irNames = new HashSet<>();
  private final Map<String, List<Proto.Node>> consumers = new HashMap<>();
  private final Map<String, Proto.Node> producers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Set<Integer> taken = new HashSet<>();
  private final Map<Value, Map<String, TensorRef>> layouts = new IdentityHashMap<>();
  private final Map<Value, Value> dequantized = new IdentityHashMap<>();
  private final Map<String, TensorRef> constants = new HashMap<>();
  private final Set<Integer> constantIndices = new HashSet<>();
  private final List<String> tensorNames = new ArrayList<>();
  private final Map<Value, Value> plain = new IdentityHashMap<>();
  private final List<Value> graphInputs = new ArrayList<>();

  GraphLowering(String file, String graphName, int opset, TensorDecoder decoder) {
    this.file = file;
    this.opset = opset;
    this.decoder = decoder;
    this.g = Graph.builder(graphName, file);
  }

  // ---- setup ----------------------------------------------------------------------------------

  void addInitializer(Proto.TensorData t) {
    initializers.put(t.name(), t);
    onnxNames.add(t.name());
  }

  boolean isInitializer(String name) { return initializers.containsKey(name) || fixedInputs.contains(name); }

  /** A graph input the caller gave a value for ({@code LoadOptions.constantInput}): a constant, like an initializer. */
  void addFixedInput(String name, Constant c) {
    values.put(name, Value.constant(name, c));
    fixedInputs.add(name);
    onnxNames.add(name);
  }

  void reserveName(String name) { onnxNames.add(name); }

  void addConsumer(String value, Proto.Node node) {
    consumers.computeIfAbsent(value, k -> new ArrayList<>()).add(node);
  }

  void addProducer(String value, Proto.Node node) { producers.put(value, node); }

  /** The live node writing {@code value}, or null (graph inputs, initializers). */
  Proto.Node producer(String value) { return producers.get(value); }

  /** The live nodes reading {@code value} (once per input slot). */
  List<Proto.Node> consumers(String value) { return consumers.getOrDefault(value, List.of()); }

  boolean isGraphOutput(String value) { return graphOutputs.contains(value); }

  void markGraphOutput(String name) { graphOutputs.add(name); }

  /** Adds a model input: an ir tensor with the ONNX name, NCHW as given. */
  Value addInput(String name, int[] shape, DType dtype) {
    TensorRef t = newTensor(name, true, shape, dtype, Quantization.NONE);
    Value v = Value.tensor(name, t, shape);
    values.put(name, v);
    graphInputs.add(v);
    return v;
  }

  // ---- values ---------------------------------------------------------------------------------

  /** The value of {@code name}; initializers are decoded on first use. */
  Value value(Proto.Node node, String name) throws ModelFormatException {
    Value v = values.get(name);
    if (v != null) return v;
    Proto.TensorData t = initializers.get(name);
    if (t != null) {
      v = Value.constant(name, decoder.decode(t));
      values.put(name, v);
      return v;
    }
    throw error(node, "reads '" + name + "', which is not a graph input, an initializer or the output of any node");
  }

  /** Decodes a tensor attribute (Constant's value). */
  Constant decode(Proto.TensorData t) throws ModelFormatException { return decoder.decode(t); }

  /** Required input {@code i}. */
  Value input(Proto.Node node, int i, String role) throws ModelFormatException {
    String name = node.input(i);
    if (name == null) throw error(node, "its " + role + " (input " + i + ") is missing");
    return value(node, name);
  }

  /** Optional input {@code i}, or null. */
  Value optional(Proto.Node node, int i) throws ModelFormatException {
    String name = node.input(i);
    return name == null ? null : value(node, name);
  }

  /** Input {@code i}, which must be known at compile time. */
  Constant constantInput(Proto.Node node, int i, String role) throws ModelFormatException {
    Value v = input(node, i, role);
    if (!v.isConstant()) {
      throw error(node, "its " + role + " (input " + i + ", '" + v.name + "') is computed at run time; Kiln needs it to be a"
          + " constant (an initializer, a Constant node or something computed only from those)" + constantHint(v));
    }
    return v.constant;
  }

  /**
   * For a value that must be a constant but is a model input: how to make it one when the application always feeds it
   * the same ("" for anything else, whose value really is computed).
   */
  String constantHint(Value v) {
    for (Value in : graphInputs) {
      if (in.name.equals(v.name)) {
        return "; '" + v.name + "' is a model input: if it never changes, compile it as a constant with Kiln.load(path,"
            + " LoadOptions.constantInput(\"" + v.name + "\", Tensor.load(\"" + v.name + ".npy\")))";
      }
    }
    return "";
  }

  void define(Proto.Node node, String name, Value v) throws ModelFormatException {
    if (name == null || name.isEmpty()) return;
    if (values.containsKey(name) || initializers.containsKey(name)) {
      throw error(node, "writes '" + name + "', which is already defined (every ONNX value is produced once)");
    }
    values.put(name, v.name.equals(name) ? v : v.renamed(name));
  }

  /** Output {@code i}'s name, or null when absent. */
  static String output(Proto.Node node, int i) {
    return i < node.outputs().size() && !node.outputs().get(i).isEmpty() ? node.outputs().get(i) : null;
  }

  // ---- epilogues ------------------------------------------------------------------------------

  /**
   * The only node reading {@code value}, if exactly one node reads it exactly once, it is not a
   * model output, and the node's other inputs are already known (constants come first in {@link
   * NodeOrder}; a bound computed later from a run-time shape just prevents the merge).
   */
  Proto.Node soleConsumer(String value) {
    if (graphOutputs.contains(value)) return null;
    List<Proto.Node> readers = consumers.getOrDefault(value, List.of());
    if (readers.size() != 1) return null;
    Proto.Node n = readers.get(0);
    if (taken.contains(n.index())) return null;
    for (String in : n.inputs()) {
      if (!in.isEmpty() && !in.equals(value) && !values.containsKey(in) && !initializers.containsKey(in)) return null;
    }
    return n;
  }

  /** A BatchNormalization folded into the op before it: y = (x - mean[c]) * scale[c] + beta[c]. */
  record Affine(float[] scale, float[] mean, float[] beta) {}

  /** What follows an op and can be merged into it; {@code nodes} are the merged nodes in order. */
  record Epilogue(List<Proto.Node> nodes, String output, Affine affine, Activation activation, Proto.Node quantize,
                  String beforeQuantize) {
    static Epilogue none(String output) { return new Epilogue(List.of(), output, null, Activation.NONE, null, output); }
  }

  /**
   * Follows {@code value} through single-reader nodes: an optional BatchNormalization (when {@code
   * channels} > 0, with constant parameters), an optional Relu or Clip that is a RELU, RELU6 or
   * RELU_N1_TO_1, an optional per-tensor QuantizeLinear. Nothing is marked taken here.
   */
  Epilogue epilogue(String value, int channels) throws ModelFormatException {
    List<Proto.Node> nodes = new ArrayList<>();
    String out = value;
    Affine affine = null;
    Activation act = Activation.NONE;
    Proto.Node next = soleConsumer(out);
    if (channels > 0 && next != null && next.opType().equals("BatchNormalization") && out.equals(next.input(0))) {
      affine = Operators.batchNormAffine(this, next, channels);
      if (affine != null) {
        nodes.add(next);
        out = output(next, 0);
        next = soleConsumer(out);
      }
    }
    if (next != null && out.equals(next.input(0))) {
      Activation a = Operators.activationOf(this, next);
      if (a != null) {
        act = a;
        nodes.add(next);
        out = output(next, 0);
        next = soleConsumer(out);
      }
    }
    String before = out;
    Proto.Node q = null;
    if (next != null && next.opType().equals("QuantizeLinear") && out.equals(next.input(0)) && Operators.isPerTensorQuantize(this, next)) {
      q = next;
      out = output(next, 0);
    }
    return new Epilogue(List.copyOf(nodes), out, affine, act, q, before);
  }

  /** True if some node reads {@code value} or it is a model output. */
  boolean isUsed(String value) {
    return graphOutputs.contains(value) || !consumers.getOrDefault(value, List.of()).isEmpty();
  }

  /** Marks nodes as lowered together with an earlier one. */
  void take(List<Proto.Node> nodes) {
    for (Proto.Node n : nodes) taken.add(n.index());
  }

  boolean isTaken(Proto.Node n) { return taken.contains(n.index()); }

  // ---- tensors --------------------------------------------------------------------------------

  /** A new ir activation tensor; {@code onnxName} says {@code wanted} is the ONNX value's own name. */
  TensorRef newTensor(String wanted, boolean onnxName, int[] shape, DType dtype, Quantization q) {
    String name = allocate(wanted, onnxName);
    int index = g.addTensor(Tensor.builder(name).shape(shape).dtype(dtype).quantization(q));
    tensorNames.add(name);
    return new TensorRef(index, name, shape.clone(), dtype, q);
  }

  /** A new ir constant tensor holding {@code c} (already in the layout the op wants). */
  TensorRef constantTensor(String wanted, Constant c, Quantization q) {
    String key = wanted + "|" + c.dtype() + "|" + Shape.toString(c.shape()) + "|" + q + "|" + System.identityHashCode(c.bytes());
    TensorRef cached = constants.get(key);
    if (cached != null) return cached;
    String name = allocate(wanted, !irNames.contains(wanted));
    int index = g.addTensor(Tensor.builder(name).shape(c.shape()).dtype(c.dtype()).quantization(q).data(c.bytes().clone()));
    tensorNames.add(name);
    TensorRef t = new TensorRef(index, name, c.shape(), c.dtype(), q);
    constants.put(key, t);
    constantIndices.add(index);
    return t;
  }

  private String allocate(String wanted, boolean onnxName) {
    if (onnxName && !irNames.contains(wanted)) {
      irNames.add(wanted);
      return wanted;
    }
    String candidate = wanted;
    for (int k = 1; irNames.contains(candidate) || onnxNames.contains(candidate); k++) candidate = wanted + "#" + k;
    irNames.add(candidate);
    return candidate;
  }

  /** Adds an op; a null input is an absent optional input. */
  void op(OpType type, Options options, TensorRef out, TensorRef... in) {
    opWithOutputs(type, options, new TensorRef[] {out}, in);
  }

  /** An op with several outputs (TOPK's values and indices). */
  void opWithOutputs(OpType type, Options options, TensorRef[] outs, TensorRef... in) {
    int[] idx = new int[in.length];
    for (int i = 0; i < in.length; i++) idx[i] = in[i] == null ? -1 : in[i].index();
    int[] o = new int[outs.length];
    for (int i = 0; i < outs.length; i++) o[i] = outs[i].index();
    g.addOp(type, idx, o, options);
  }

  /** A RESHAPE (a view: no copy) of {@code t} to {@code shape}, optionally relabelling its quantization. */
  TensorRef reshape(TensorRef t, int[] shape, String wanted, boolean onnxName, Quantization q) {
    TensorRef out = newTensor(wanted, onnxName, shape, t.dtype(), q);
    op(OpType.RESHAPE, new Options.None(), out, t);
    return out;
  }

  // ---- layouts --------------------------------------------------------------------------------

  /**
   * A value as a stored tensor and the permutation from the value's axes to the tensor's: the value's
   * own tensor when it is a plain permutation of one (nothing copied), else the value laid out in
   * row-major order (perm null).
   */
  record Stored(TensorRef tensor, int[] perm) {}

  Stored stored(Value v) {
    return v.isPlainPermutation() ? new Stored(v.phys, v.perm) : new Stored(layout(v, null), null);
  }

  /**
   * An ir tensor holding {@code transpose(v, q)} ({@code q} null = v itself) in row-major order:
   * constants are permuted at compile time; tensors are used as they are, viewed (RESHAPE) or
   * permuted (TRANSPOSE) as their recorded layout requires; a lazy DequantizeLinear becomes a
   * DEQUANTIZE first. Results are cached per value and permutation.
   */
  TensorRef layout(Value v, int[] q) {
    int[] perm = q == null ? Value.identity(v.rank()) : q;
    if (v.isConstant()) {
      Constant c = Value.isIdentity(perm) ? v.constant : v.constant.transpose(perm);
      return constantTensor(v.name + suffix(perm), c, Quantization.NONE);
    }
    if (v.isDequantized()) return layout(floatValue(v), perm);
    String key = Arrays.toString(perm);
    Map<String, TensorRef> cache = layouts.computeIfAbsent(v, k -> new HashMap<>());
    TensorRef cached = cache.get(key);
    if (cached != null) return cached;
    TensorRef result;
    if (v.isPlainPermutation()) {
      result = permutePhys(v, v.phys, Value.compose(v.perm, perm), Value.permute(v.shape, perm), v.name + suffix(perm));
    } else {
      // transpose(phys, perm) without the reshape, then the reshape
      Value unreshaped = plain.computeIfAbsent(v, k -> k.reshaped(k.name, k.preShape()));
      TensorRef logical = reshapeIfNeeded(layout(unreshaped, null), v.shape, v.name);
      result = Value.isIdentity(perm) ? logical
          : permutePhys(v, logical, perm, Value.permute(v.shape, perm), v.name + suffix(perm));
    }
    cache.put(key, result);
    return result;
  }

  /** {@code transpose(t, c)} with result shape {@code target}: t itself, a RESHAPE view or a TRANSPOSE. */
  private TensorRef permutePhys(Value v, TensorRef t, int[] c, int[] target, String wanted) {
    if (Value.keepsOrder(t.shape(), c)) {
      return Arrays.equals(t.shape(), target) ? t : reshape(t, target, wanted, wanted.equals(v.name), t.quantization());
    }
    TensorRef out = newTensor(wanted, wanted.equals(v.name), target, t.dtype(), t.quantization());
    op(OpType.TRANSPOSE, new Options.Transpose(c), out, t);
    return out;
  }

  private TensorRef reshapeIfNeeded(TensorRef t, int[] shape, String name) {
    return Arrays.equals(t.shape(), shape) ? t : reshape(t, shape, name, true, t.quantization());
  }

  private static String suffix(int[] perm) {
    if (Value.isIdentity(perm)) return "";
    if (Arrays.equals(perm, NHWC)) return "/nhwc";
    return "/transposed";
  }

  /** Logical NCHW -> physical NHWC. */
  static final int[] NHWC = {0, 2, 3, 1};
  /** Physical NHWC -> logical NCHW. */
  static final int[] NCHW = {0, 3, 1, 2};

  /** True if {@code v} is a tensor whose bytes are NHWC for its 4-D logical NCHW shape. */
  static boolean isNhwc(Value v) {
    return v.phys != null && v.rank() == 4 && v.isPlainPermutation() && Arrays.equals(v.perm, NCHW);
  }

  /** A float value: a lazy DequantizeLinear becomes a DEQUANTIZE op (once), keeping the source's layout. */
  Value floatValue(Value v) {
    if (!v.isDequantized()) return v;
    Value cached = dequantized.get(v);
    if (cached != null) return cached;
    Value src = v.source;
    TensorRef out = newTensor(v.name, true, src.phys.shape(), DType.FLOAT32, Quantization.NONE);
    op(OpType.DEQUANTIZE, new Options.None(), out, src.phys);
    Value f = Value.permuted(v.name, out, src.perm, v.shape);
    dequantized.put(v, f);
    return f;
  }

  // ---- the end ------------------------------------------------------------------------------

  /**
   * Gives each model output an ir tensor with its exact ONNX name, in logical (NCHW) order and its
   * ONNX dtype; renames or copies where the value lives under another name.
   */
  int[] finishOutputs(List<String> names, List<int[]> declaredShapes, List<Integer> declaredTypes) throws ModelFormatException {
    int[] out = new int[names.size()];
    Set<Integer> used = new HashSet<>();
    Set<Integer> inputs = new HashSet<>();
    for (Value v : graphInputs) inputs.add(v.phys.index());
    for (int j = 0; j < names.size(); j++) {
      String name = names.get(j);
      Value v = values.get(name);
      if (v == null) {
        if (initializers.containsKey(name)) v = value(null, name);
        else throw new ModelFormatException(file, "model output '" + name + "' is not produced by any node, input or initializer");
      }
      int[] declared = declaredShapes.get(j);
      if (declared != null) checkDeclared(name, declared, v.shape);
      TensorRef t;
      if (v.isDequantized()) {
        t = layout(floatValue(v), null);
      } else if (v.uint8) {
        TensorRef codes = layout(v, null);
        Quantization q = codes.quantization();
        Quantization uq = Quantization.perTensor(q.scale(), q.zeroPoint() + 128L);
        t = newTensor(name, false, codes.shape(), DType.UINT8, uq);
        op(OpType.QUANTIZE, QuantOps.ONNX_ROUNDING, t, codes);
      } else {
        t = layout(v, null);
      }
      checkDeclaredType(name, declaredTypes.get(j), t.dtype());
      boolean needsCopy = used.contains(t.index()) || inputs.contains(t.index()) || isConstantTensor(t);
      if (needsCopy) {
        TensorRef copy = newTensor(name + "#copy", false, t.shape(), t.dtype(), t.quantization());
        op(OpType.RESHAPE, new Options.None(), copy, t);
        t = copy;
      }
      rename(t, name);
      used.add(t.index());
      out[j] = t.index();
    }
    return out;
  }

  private boolean isConstantTensor(TensorRef t) {
    return constantIndices.contains(t.index());
  }

  /** Gives tensor {@code t} the name {@code name}, moving whichever tensor had it to a derived name. */
  private void rename(TensorRef t, String name) {
    if (tensorNames.get(t.index()).equals(name)) return;
    for (int i = 0; i < tensorNames.size(); i++) {
      if (i != t.index() && tensorNames.get(i).equals(name)) {
        String moved = allocate(name + "/internal", false);
        g.tensor(i).name(moved).cName(null);
        tensorNames.set(i, moved);
      }
    }
    g.tensor(t.index()).name(name).cName(null);
    tensorNames.set(t.index(), name);
    irNames.add(name);
  }

  /** A declared element type must be the one the graph computes (a model meaning a conversion says Cast). */
  private void checkDeclaredType(String name, int declared, DType actual) throws ModelFormatException {
    if (declared == Proto.NO_ELEM_TYPE || TensorDecoder.dtype(declared) == actual) return;
    throw new ModelFormatException(file, "the model declares output '" + name + "' as " + TensorDecoder.typeName(declared)
        + " but its graph computes " + actual.numpyName() + " there; declare it as " + onnxTypeName(actual)
        + ", or add a Cast node if a conversion is meant");
  }

  private static String onnxTypeName(DType t) {
    for (int code = 0; code < 32; code++) if (TensorDecoder.dtype(code) == t) return TensorDecoder.typeName(code);
    return t.numpyName();
  }

  private void checkDeclared(String name, int[] declared, int[] actual) throws ModelFormatException {
    boolean ok = declared.length == actual.length;
    for (int d = 0; ok && d < declared.length; d++) ok = declared[d] < 0 || declared[d] == actual[d];
    if (!ok) {
      StringBuilder sb = new StringBuilder("[");
      for (int d = 0; d < declared.length; d++) sb.append(d == 0 ? "" : ",").append(declared[d] < 0 ? "?" : declared[d]);
      throw new ModelFormatException(file, "the model declares output '" + name + "' with shape " + sb + "] but its graph"
          + " computes " + Shape.toString(actual) + "; the model's shapes are inconsistent");
    }
  }

  Graph build(int[] inputs, int[] outputs) {
    g.inputs(inputs).outputs(outputs);
    return g.build();
  }

  // ---- errors ---------------------------------------------------------------------------------

  ModelFormatException error(Proto.Node node, String problem) {
    return new ModelFormatException(file, (node == null ? "" : node.label() + ": ") + problem);
  }

  Attrs attrs(Proto.Node node) { return new Attrs(file, node); }

  /** For messages: the value's shape. */
  static String shape(int[] s) { return Shape.toString(s); }
}
