package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a whole {@code .tflite} file into an {@code ir.Graph}, top to bottom in the order of the
 * format doc's checklist (section 6): header, version, operator codes, the single subgraph, its
 * operators (refusing unsupported ones before anything else, so the user hears about the real
 * problem first), tensors, options, dataflow, I/O and signature aliases.
 */
final class ModelDecoder {
  // Model slots.
  private static final int VERSION = 0;
  private static final int OPERATOR_CODES = 1;
  private static final int SUBGRAPHS = 2;
  private static final int BUFFERS = 4;
  private static final int SIGNATURE_DEFS = 7;
  // SubGraph slots.
  private static final int TENSORS = 0;
  private static final int INPUTS = 1;
  private static final int OUTPUTS = 2;
  private static final int OPERATORS = 3;
  // Operator slots.
  private static final int OPCODE_INDEX = 0;
  private static final int OP_INPUTS = 1;
  private static final int OP_OUTPUTS = 2;

  private static final int SCHEMA_VERSION = 3;
  private static final Set<Integer> CONTROL_FLOW = Set.of(31, 118, 119, 129); // CALL, IF, WHILE, CALL_ONCE

  private final byte[] bytes;
  private final FlatBuffer fb;
  private final String graphName;

  ModelDecoder(String file, String graphName, byte[] bytes) {
    this.bytes = bytes;
    this.fb = new FlatBuffer(file, bytes);
    this.graphName = graphName;
  }

  Graph decode() throws ModelFormatException {
    FileHeader.check(fb.file(), bytes);
    Table model = fb.root("Model");
    long version = model.uint32(VERSION, "version");
    if (version != SCHEMA_VERSION) {
      throw error("the model has TFLite schema version " + version + (version == 0 ? " (Model.version is missing)" : "")
          + ", but Kiln reads schema version 3, the only one the TFLite runtime accepts");
    }
    List<OperatorCode> codes = new ArrayList<>();
    for (Table t : model.tables(OPERATOR_CODES, "operator_codes", "OperatorCode")) codes.add(OperatorCode.read(t));
    Table subgraph = singleSubgraph(model, codes);

    List<Table> tensorTables = subgraph.tables(TENSORS, "tensors", "Tensor");
    List<String> names = new ArrayList<>(tensorTables.size());
    for (int i = 0; i < tensorTables.size(); i++) names.add(TensorDecoder.name(tensorTables.get(i), i));
    List<Operator> ops = operators(subgraph, codes, names.size());
    UnsupportedOperatorException unsupported = SupportedOperators.check(fb.file(), ops, names);
    if (unsupported != null) throw unsupported;

    Buffers buffers = new Buffers(fb, model.tables(BUFFERS, "buffers", "Buffer"));
    TensorDecoder tensorDecoder = new TensorDecoder(fb, buffers);
    List<TensorInfo> tensors = new ArrayList<>(tensorTables.size());
    int[] inputs = ioIndices(subgraph, INPUTS, "inputs", tensorTables.size());
    int[] outputs = ioIndices(subgraph, OUTPUTS, "outputs", tensorTables.size());
    Set<Integer> inputSet = new HashSet<>();
    for (int i : inputs) inputSet.add(i);
    for (int i = 0; i < tensorTables.size(); i++) tensors.add(tensorDecoder.decode(tensorTables.get(i), i, inputSet.contains(i)));

    checkDataflow(ops, tensors, inputs, outputs);

    Graph.Builder graph = Graph.builder(graphName, fb.file());
    for (TensorInfo t : tensors) graph.addTensor(t.toBuilder());
    OptionsDecoder options = new OptionsDecoder(fb, tensors);
    for (Operator op : ops) {
      OpType type = SupportedOperators.opType(op.code());
      graph.addOp(type, op.inputs(), op.outputs(), options.decode(op, type));
    }
    for (String note : tensorDecoder.notes()) graph.note(note);
    graph.inputs(inputs).outputs(outputs);
    Signatures.addAliases(fb, model.tables(SIGNATURE_DEFS, "signature_defs", "SignatureDef"), names, graph);
    return graph.build();
  }

  /** Subgraph 0, refusing models with none or several (control flow keeps bodies in extra subgraphs). */
  private Table singleSubgraph(Table model, List<OperatorCode> codes) throws ModelFormatException {
    // Counted before the elements are read: the count alone decides, whatever the extra subgraphs hold.
    int count = model.vectorLength(SUBGRAPHS, "subgraphs", 4);
    if (count == 0) throw error("the model has no subgraphs, so there is nothing to compile");
    if (count > 1) {
      throw error("the model has " + count + " subgraphs (control flow such as WHILE/IF keeps its bodies in extra"
          + " subgraphs" + controlFlowHint(model, codes) + "); Kiln compiles single-subgraph models only");
    }
    return model.table(SUBGRAPHS, "subgraphs", "SubGraph", 0);
  }

  /** "; the main subgraph uses WHILE", best effort: a broken subgraph only drops the hint. */
  private String controlFlowHint(Table model, List<OperatorCode> codes) {
    try {
      Set<String> used = new LinkedHashSet<>();
      Table main = model.table(SUBGRAPHS, "subgraphs", "SubGraph", 0);
      for (Table op : main.tables(OPERATORS, "operators", "Operator")) {
        long index = op.uint32(OPCODE_INDEX, "opcode_index");
        if (index < codes.size() && CONTROL_FLOW.contains(codes.get((int) index).builtin())) {
          used.add(codes.get((int) index).name());
        }
      }
      return used.isEmpty() ? "" : "; the main subgraph uses " + String.join(", ", used);
    } catch (ModelFormatException e) {
      return "";
    }
  }

  /** The operators in execution order, with opcode and tensor indices checked to be in range. */
  private List<Operator> operators(Table subgraph, List<OperatorCode> codes, int tensorCount) throws ModelFormatException {
    List<Table> tables = subgraph.tables(OPERATORS, "operators", "Operator");
    List<Operator> ops = new ArrayList<>(tables.size());
    for (int k = 0; k < tables.size(); k++) {
      Table t = tables.get(k);
      long codeIndex = t.uint32(OPCODE_INDEX, "opcode_index");
      if (codeIndex >= codes.size()) {
        throw fb.corrupt("operator #" + k + " refers to operator code " + codeIndex + ", but the model lists only "
            + codes.size() + " operator codes");
      }
      Operator op = new Operator(k, codes.get((int) codeIndex), t.int32s(OP_INPUTS, "inputs"), t.int32s(OP_OUTPUTS, "outputs"), t);
      checkIndices(op, op.inputs(), "input", true, tensorCount);
      checkIndices(op, op.outputs(), "output", false, tensorCount);
      ops.add(op);
    }
    return ops;
  }

  private void checkIndices(Operator op, int[] indices, String role, boolean optional, int tensorCount)
      throws ModelFormatException {
    for (int i = 0; i < indices.length; i++) {
      int t = indices[i];
      if (optional && t == -1) continue;
      if (t < 0 || t >= tensorCount) {
        throw fb.corrupt(op.label() + " " + role + " " + i + " refers to tensor " + t + ", but the subgraph has "
            + tensorCount + " tensors");
      }
    }
  }

  private int[] ioIndices(Table subgraph, int slot, String field, int tensorCount) throws ModelFormatException {
    int[] indices = subgraph.int32s(slot, field);
    for (int i = 0; i < indices.length; i++) {
      if (indices[i] < 0 || indices[i] >= tensorCount) {
        throw fb.corrupt("model " + field + " entry " + i + " refers to tensor " + indices[i] + ", but the subgraph has "
            + tensorCount + " tensors");
      }
    }
    return indices;
  }

  /**
   * The invariants {@code Graph.verify()} enforces, checked first so that a broken model gets a
   * message naming operator and tensor instead of an IllegalStateException.
   */
  private void checkDataflow(List<Operator> ops, List<TensorInfo> tensors, int[] inputs, int[] outputs)
      throws ModelFormatException {
    Set<Integer> modelInputs = new HashSet<>();
    for (int i : inputs) modelInputs.add(i);
    Set<Integer> modelOutputs = new HashSet<>();
    for (int i : outputs) modelOutputs.add(i);
    for (int t = 0; t < tensors.size(); t++) {
      if (!tensors.get(t).variable()) continue;
      String role = modelInputs.contains(t) ? "a model input" : modelOutputs.contains(t) ? "a model output" : null;
      if (role != null) {
        throw error(tensors.get(t).describe() + " is a variable (state kept between runs) and " + role + "; Kiln keeps"
            + " variables inside the model, where the stateful operators (SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM) update them");
      }
    }
    Map<Integer, Operator> writer = new HashMap<>();
    for (Operator op : ops) {
      for (int t : op.inputs()) {
        if (t < 0 || modelInputs.contains(t) || tensors.get(t).isConstant() || tensors.get(t).variable()
            || writer.containsKey(t)) continue;
        throw error(op.label() + " reads " + tensors.get(t).describe()
            + ", which is not a model input, not a constant and not written by an earlier operator");
      }
      for (int t : op.outputs()) {
        String problem = modelInputs.contains(t) ? "a model input"
            : tensors.get(t).isConstant() ? "a constant"
            : tensors.get(t).variable() ? "a variable (only its stateful operator updates it, in place)"
            : writer.containsKey(t) ? "already written by " + writer.get(t).label() : null;
        if (problem != null) throw error(op.label() + " writes " + tensors.get(t).describe() + ", which is " + problem);
        writer.put(t, op);
      }
    }
    for (int t : outputs) {
      if (!modelInputs.contains(t) && !tensors.get(t).isConstant() && !writer.containsKey(t)) {
        throw error("model output " + tensors.get(t).describe() + " is never written by any operator");
      }
    }
  }

  private ModelFormatException error(String problem) {
    return new ModelFormatException(fb.file(), problem);
  }
}
