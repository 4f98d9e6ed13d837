package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a whole {@code .tflite} file into an {@code ir.Graph}, top to bottom in the order of the
 * format doc's checklist (section 6): header, version, operator codes, every subgraph's operators
 * (refusing unsupported ones before anything else, so the user hears about the real problem
 * first), resource variables, then subgraph 0's tensors, options, dataflow, I/O and signature
 * aliases; the subgraphs its control-flow operators run (WHILE, IF, CALL_ONCE) are decoded the
 * same way into the operators' options.
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
    int count = model.vectorLength(SUBGRAPHS, "subgraphs", 4);
    if (count == 0) throw error("the model has no subgraphs, so there is nothing to compile");
    // Every subgraph's operators are read and checked before any tensor: an unsupported operator in
    // a loop body is reported as early as one in the main subgraph.
    List<Table> subgraphTables = model.tables(SUBGRAPHS, "subgraphs", "SubGraph");
    for (int k = 0; k < subgraphTables.size(); k++) {
      Table sg = subgraphTables.get(k);
      List<Table> tensorTables = sg.tables(TENSORS, "tensors", "Tensor");
      List<String> names = new ArrayList<>(tensorTables.size());
      for (int i = 0; i < tensorTables.size(); i++) names.add(TensorDecoder.name(tensorTables.get(i), i));
      List<Operator> ops = operators(sg, codes, names.size());
      raw.add(new RawSubgraph(k, sg, tensorTables, names, ops));
    }
    findCallers();
    for (RawSubgraph sg : raw) {
      UnsupportedOperatorException unsupported = SupportedOperators.check(fb.file(), sg.ops(), sg.names());
      if (unsupported != null) {
        if (sg.index() == 0) throw unsupported;
        String problem = unsupported.getMessage().substring(fb.file().length() + 2);
        throw new UnsupportedOperatorException(fb.file(), where(sg.index()) + ": " + problem, unsupported.operator(),
            unsupported.operatorIndex());
      }
    }
    Buffers buffers = new Buffers(fb, model.tables(BUFFERS, "buffers", "Buffer"));
    tensorDecoder = new TensorDecoder(fb, buffers);
    resources = ResourceVariables.resolve(fb, raw, tensorDecoder);
    // which subgraphs subgraph 0 runs, found before it is built so that its notes can name the others
    Set<Integer> reached = new LinkedHashSet<>(List.of(0));
    for (boolean grew = true; grew; ) {
      grew = false;
      for (RawSubgraph sg : raw) {
        if (!reached.contains(sg.index())) continue;
        for (Operator op : sg.ops()) {
          int[] called = new OptionsDecoder(fb, List.of()).subgraphIndices(op, SupportedOperators.opType(op.code()));
          if (called != null) for (int c : called) grew |= c >= 0 && c < raw.size() && reached.add(c);
        }
      }
    }
    for (RawSubgraph sg : raw) {
      if (!reached.contains(sg.index())) {
        unreached.add("subgraph " + sg.index() + " (" + sg.ops().size() + " operators) is not run by subgraph 0 (another"
            + " signature's entry?); Kiln compiles subgraph 0 and what it runs, as TFLite's default signature does");
      }
    }
    return subgraph(0, model);
  }

  private final List<String> unreached = new ArrayList<>();

  private int[] withoutHandles(int k, int[] indices) {
    return java.util.Arrays.stream(indices).filter(t -> !resources.isHandle(k, t)).toArray();
  }

  /** A WHILE or IF without its resource-handle operands (and a WHILE without the matching outputs). */
  private Operator withoutHandles(int k, Operator op, OpType type) {
    int first = type == OpType.IF ? 1 : 0;
    List<Integer> in = new ArrayList<>();
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < op.inputs().length; i++) {
      boolean handle = i >= first && resources.isHandle(k, op.inputs()[i]);
      if (!handle) in.add(op.inputs()[i]);
      if (type == OpType.WHILE && !handle && i < op.outputs().length) out.add(op.outputs()[i]);
    }
    if (type == OpType.WHILE) for (int i = op.inputs().length; i < op.outputs().length; i++) out.add(op.outputs()[i]);
    if (type == OpType.IF) for (int t : op.outputs()) if (!resources.isHandle(k, t)) out.add(t);
    if (in.size() == op.inputs().length && out.size() == op.outputs().length) return op;
    return new Operator(op.index(), op.code(), in.stream().mapToInt(Integer::intValue).toArray(),
        out.stream().mapToInt(Integer::intValue).toArray(), op.table());
  }

  /** One subgraph as read from the file, before its tensors are decoded. */
  record RawSubgraph(int index, Table table, List<Table> tensorTables, List<String> names, List<Operator> ops) {}

  private final List<RawSubgraph> raw = new ArrayList<>();
  /** Who runs each subgraph, for messages: "the body of WHILE operator #0 in subgraph 0". */
  private final Map<Integer, String> callers = new HashMap<>();

  private void findCallers() throws ModelFormatException {
    OptionsDecoder reader = new OptionsDecoder(fb, List.of());
    for (RawSubgraph sg : raw) {
      for (Operator op : sg.ops()) {
        OpType type = SupportedOperators.opType(op.code());
        if (type != OpType.WHILE && type != OpType.IF && type != OpType.CALL_ONCE) continue;
        int[] called = reader.subgraphIndices(op, type);
        String[] roles = type == OpType.WHILE ? new String[] {"cond", "body"}
            : type == OpType.IF ? new String[] {"then branch", "else branch"} : new String[] {"init"};
        for (int i = 0; i < called.length; i++) {
          callers.putIfAbsent(called[i], "the " + roles[i] + " of " + type + " operator #" + op.index() + " in subgraph " + sg.index());
        }
      }
    }
  }

  /** {@code e} said of subgraph {@code k} (unchanged for subgraph 0, whose messages always meant it). */
  private ModelFormatException inSubgraph(int k, ModelFormatException e) {
    if (k == 0) return e;
    String problem = e.getMessage().startsWith(fb.file() + ": ") ? e.getMessage().substring(fb.file().length() + 2) : e.getMessage();
    if (e instanceof UnsupportedOperatorException u) {
      return new UnsupportedOperatorException(fb.file(), where(k) + ": " + problem, u.operator(), u.operatorIndex());
    }
    return new ModelFormatException(fb.file(), where(k) + ": " + problem, e);
  }

  /** "subgraph 2 (the body of WHILE operator #0 in subgraph 0)", or "subgraph 0". */
  private String where(int k) {
    String caller = callers.get(k);
    return "subgraph " + k + (caller == null ? "" : " (" + caller + ")");
  }

  /**
   * A tensor's refusal, said where the control flow is: a WHILE's loop value with a dynamic
   * dimension is a loop that changes its shape per iteration.
   */
  private ModelFormatException inContext(int k, int tensor, ModelFormatException e) {
    String problem = e.getMessage().startsWith(fb.file() + ": ") ? e.getMessage().substring(fb.file().length() + 2) : e.getMessage();
    for (Operator op : raw.get(k).ops()) {
      if (SupportedOperators.opType(op.code()) != OpType.WHILE) continue;
      for (int j = 0; j < op.outputs().length; j++) {
        if (op.outputs()[j] != tensor && (j >= op.inputs().length || op.inputs()[j] != tensor)) continue;
        return new UnsupportedOperatorException(fb.file(), "subgraph " + k + " operator #" + op.index() + " (WHILE): loop value "
            + j + ": " + problem + "; a loop value whose shape changes from one iteration to the next needs run-time"
            + " allocation, so keep every loop value at one fixed shape (write into a preallocated tensor instead of"
            + " growing one)", "WHILE", op.index());
      }
    }
    return k == 0 ? e : new ModelFormatException(fb.file(), where(k) + ": " + problem, e);
  }
  private final Map<Integer, Graph> decoded = new HashMap<>();
  private final Set<Integer> decoding = new LinkedHashSet<>();
  private TensorDecoder tensorDecoder;
  private ResourceVariables resources;

  /** Subgraph {@code k} as a graph, the subgraphs its control-flow operators run decoded first (once each). */
  private Graph subgraph(int k, Table model) throws ModelFormatException {
    Graph done = decoded.get(k);
    if (done != null) return done;
    if (!decoding.add(k)) {
      throw error("subgraph " + k + " runs itself through control flow (subgraphs " + decoding + "); TFLite forbids recursion");
    }
    RawSubgraph sg = raw.get(k);
    List<TensorInfo> tensors = new ArrayList<>(sg.tensorTables().size());
    int[] declaredInputs = ioIndices(sg.table(), INPUTS, "inputs", sg.tensorTables().size());
    Set<Integer> inputSet = new HashSet<>();
    for (int i : declaredInputs) inputSet.add(i);
    // only the model's own inputs (subgraph 0) must be static; a loop value's shape is re-derived when its loop compiles
    for (int i = 0; i < sg.tensorTables().size(); i++) {
      TensorInfo variable = resources.variableTensor(k, i);
      try {
        tensors.add(variable != null ? variable : tensorDecoder.decode(sg.tensorTables().get(i), i, k == 0 && inputSet.contains(i)));
      } catch (ModelFormatException e) {
        throw inContext(k, i, e);
      }
    }
    // resource handles are resolved to static variables, so no subgraph parameter or control-flow operand carries one
    int[] inputs = withoutHandles(k, ioIndices(sg.table(), INPUTS, "inputs", tensors.size()));
    int[] outputs = withoutHandles(k, ioIndices(sg.table(), OUTPUTS, "outputs", tensors.size()));
    List<Operator> dataflow = new ArrayList<>();
    for (Operator op : sg.ops()) {
      OpType type = SupportedOperators.opType(op.code());
      if (type == OpType.VAR_HANDLE) continue;
      dataflow.add(type == OpType.WHILE || type == OpType.IF ? withoutHandles(k, op, type) : op);
    }
    try {
      checkDataflow(dataflow, tensors, inputs, outputs);
    } catch (ModelFormatException e) {
      throw inSubgraph(k, e);
    }

    Graph.Builder graph = Graph.builder(k == 0 ? graphName : graphName + "/subgraph" + k, fb.file());
    for (TensorInfo t : tensors) graph.addTensor(t.toBuilder());
    for (int i = 0; i < tensors.size(); i++) {
      String cName = resources.cName(k, i);
      if (cName != null) graph.fixedCName(i, cName);
    }
    OptionsDecoder options = new OptionsDecoder(fb, tensors);
    for (Operator op : dataflow) {
      OpType type = SupportedOperators.opType(op.code());
      int[] called = options.subgraphIndices(op, type);
      Options opOptions;
      if (called != null) {
        List<Graph> graphs = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        for (int c : called) {
          if (c < 0 || c >= raw.size()) {
            throw fb.corrupt("subgraph " + k + " " + op.label() + " runs subgraph " + c + ", but the model has "
                + raw.size() + " subgraphs");
          }
          graphs.add(subgraph(c, model));
          indices.add(c);
        }
        opOptions = new Options.Subgraphs(graphs, indices);
        ControlFlowChecks.check(fb.file(), k, op, type, tensors, graphs, indices);
      } else if (type == OpType.READ_VARIABLE || type == OpType.ASSIGN_VARIABLE) {
        opOptions = new Options.None(); // their options tables are empty; ResourceVariables checked their tensors
      } else {
        try {
          opOptions = options.decode(op, type);
        } catch (ModelFormatException e) {
          throw inSubgraph(k, e);
        }
      }
      graph.addOp(type, op.inputs(), op.outputs(), opOptions);
    }
    if (k == 0) for (String note : tensorDecoder.notes()) graph.note(note);
    if (k == 0) for (String note : unreached) graph.note(note);
    graph.inputs(inputs).outputs(outputs);
    if (k == 0) Signatures.addAliases(fb, model.tables(SIGNATURE_DEFS, "signature_defs", "SignatureDef"), sg.names(), graph);
    Graph g = graph.build();
    decoding.remove(k);
    decoded.put(k, g);
    return g;
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
