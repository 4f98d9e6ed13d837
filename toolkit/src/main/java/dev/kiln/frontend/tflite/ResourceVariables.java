package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.CNames;
import dev.kiln.ir.DType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TFLite's resource variables resolved at compile time: every VAR_HANDLE names a variable by
 * (container, shared_name), as TFLite's resource map does, and the resource tensor it writes is
 * replaced by a variable tensor of the value's dtype and shape (found from the READ_VARIABLE and
 * ASSIGN_VARIABLE operators using it). Every subgraph's variable tensor for one variable gets the
 * same C name, so the generated code keeps one static buffer per variable, persisting between runs.
 */
final class ResourceVariables {
  private static final int VAR_HANDLE = 142;
  private static final int IF = 118;
  private static final int WHILE = 119;
  private static final int READ_VARIABLE = 143;
  private static final int ASSIGN_VARIABLE = 144;
  private static final int VAR_HANDLE_OPTIONS = 111;
  private static final int RESOURCE_TYPE = 13;
  private static final int TENSOR_TYPE_SLOT = 1;

  /** One variable: its key, C name and, once something reads or assigns it, its value's type. */
  private static final class Variable {
    final String key;
    final String cName;
    TensorInfo value;
    String valueWhere;

    Variable(String key, String cName) {
      this.key = key;
      this.cName = cName;
    }
  }

  private final Map<Long, Variable> byTensor = new HashMap<>();

  private ResourceVariables() {}

  private static long slot(int subgraph, int tensor) { return ((long) subgraph << 32) | (tensor & 0xffffffffL); }

  static ResourceVariables resolve(FlatBuffer fb, List<ModelDecoder.RawSubgraph> subgraphs, TensorDecoder decoder)
      throws ModelFormatException {
    ResourceVariables r = new ResourceVariables();
    Map<String, Variable> byKey = new LinkedHashMap<>();
    for (ModelDecoder.RawSubgraph sg : subgraphs) {
      for (Operator op : sg.ops()) {
        if (op.code().isCustom() || op.code().builtin() != VAR_HANDLE) continue;
        if (op.outputs().length != 1) {
          throw new ModelFormatException(fb.file(), "subgraph " + sg.index() + " " + op.label() + " has "
              + op.outputs().length + " outputs; VAR_HANDLE writes one resource handle");
        }
        Table o = null;
        if (op.table().uint8(3, "builtin_options_type") == VAR_HANDLE_OPTIONS) {
          o = op.table().table(4, "builtin_options", "VarHandleOptions");
        }
        String container = o == null ? null : o.string(0, "container");
        String shared = o == null ? null : o.string(1, "shared_name");
        String key = (container == null ? "" : container) + "/" + (shared == null ? "" : shared);
        Variable v = byKey.get(key);
        if (v == null) {
          String base = shared == null || shared.isEmpty() ? "variable" : shared;
          v = new Variable(key, "kiln_var" + byKey.size() + "_" + CNames.sanitize(base));
          byKey.put(key, v);
        }
        r.byTensor.put(slot(sg.index(), op.outputs()[0]), v);
      }
    }
    r.followControlFlow(fb, subgraphs);
    for (ModelDecoder.RawSubgraph sg : subgraphs) {
      for (Operator op : sg.ops()) {
        if (op.code().isCustom()) continue;
        int code = op.code().builtin();
        if (code != READ_VARIABLE && code != ASSIGN_VARIABLE) continue;
        int wanted = code == READ_VARIABLE ? 1 : 2;
        if (op.inputs().length != wanted || op.inputs()[0] < 0 || (code == ASSIGN_VARIABLE && op.inputs()[1] < 0)
            || op.outputs().length != (code == READ_VARIABLE ? 1 : 0)) {
          throw new ModelFormatException(fb.file(), "subgraph " + sg.index() + " " + op.label() + " has "
              + op.inputs().length + " inputs and " + op.outputs().length + " outputs; "
              + (code == READ_VARIABLE ? "READ_VARIABLE takes a resource handle and writes its value"
                  : "ASSIGN_VARIABLE takes a resource handle and a value and writes nothing"));
        }
        Variable v = r.byTensor.get(slot(sg.index(), op.inputs()[0]));
        if (v == null) {
          throw new ModelFormatException(fb.file(), "subgraph " + sg.index() + " " + op.label() + " uses resource handle "
              + TensorInfo.describe(sg.names().get(op.inputs()[0]), op.inputs()[0]) + ", which no VAR_HANDLE of subgraph "
              + sg.index() + " writes (it comes from another subgraph); Kiln resolves a resource variable where a"
              + " VAR_HANDLE names it, so call VAR_HANDLE in the subgraph that reads or assigns the variable");
        }
        int valueIndex = code == READ_VARIABLE ? op.outputs()[0] : op.inputs()[1];
        TensorInfo value = decoder.decode(sg.tensorTables().get(valueIndex), valueIndex, true);
        String where = "subgraph " + sg.index() + " " + op.label() + " (" + value.describe() + ", " + value.dtype() + " "
            + Shape.toString(value.shape()) + ")";
        if (v.value == null) {
          v.value = value;
          v.valueWhere = where;
        } else if (v.value.dtype() != value.dtype() || !Arrays.equals(v.value.shape(), value.shape())) {
          throw new ModelFormatException(fb.file(), "resource variable '" + v.key + "' is used as " + v.value.dtype() + " "
              + Shape.toString(v.value.shape()) + " by " + v.valueWhere + " and as " + value.dtype() + " "
              + Shape.toString(value.shape()) + " by " + where + "; Kiln keeps one static buffer of one dtype and shape"
              + " per variable");
        }
      }
    }
    // every other resource tensor (a handle passed between subgraphs) is refused where it is used
    for (ModelDecoder.RawSubgraph sg : subgraphs) {
      for (int i = 0; i < sg.tensorTables().size(); i++) {
        if (sg.tensorTables().get(i).int8(TENSOR_TYPE_SLOT, "type", 0) != RESOURCE_TYPE) continue;
        if (r.byTensor.containsKey(slot(sg.index(), i))) continue;
        throw new ModelFormatException(fb.file(), "subgraph " + sg.index() + " " + TensorInfo.describe(sg.names().get(i), i)
            + " is a resource handle that no VAR_HANDLE of that subgraph writes (it is passed in from another subgraph);"
            + " Kiln resolves a resource variable where a VAR_HANDLE names it, so call VAR_HANDLE in the subgraph that"
            + " reads or assigns the variable");
      }
    }
    return r;
  }

  /**
   * A handle passed as a WHILE or IF operand (a variable read inside a loop body) names the same
   * variable in the subgraphs it reaches: their parameter, the body's result and the WHILE's output
   * at that position. Repeated until nothing changes, so handles passed through nested loops resolve.
   */
  private void followControlFlow(FlatBuffer fb, List<ModelDecoder.RawSubgraph> subgraphs) throws ModelFormatException {
    OptionsDecoder reader = new OptionsDecoder(fb, List.of());
    boolean changed = true;
    while (changed) {
      changed = false;
      for (ModelDecoder.RawSubgraph sg : subgraphs) {
        for (Operator op : sg.ops()) {
          if (op.code().isCustom() || (op.code().builtin() != WHILE && op.code().builtin() != IF)) continue;
          boolean loop = op.code().builtin() == WHILE;
          int[] called = reader.subgraphIndices(op, loop ? dev.kiln.ir.OpType.WHILE : dev.kiln.ir.OpType.IF);
          int first = loop ? 0 : 1;
          for (int i = first; i < op.inputs().length; i++) {
            Variable v = op.inputs()[i] < 0 ? null : byTensor.get(slot(sg.index(), op.inputs()[i]));
            if (v == null) continue;
            int p = i - first;
            for (int c = 0; c < called.length; c++) {
              if (called[c] < 0 || called[c] >= subgraphs.size()) continue; // the decoder reports the bad index
              Table target = subgraphs.get(called[c]).table();
              int[] params = target.int32s(1, "inputs");
              if (p < params.length) changed |= bind(fb, called[c], params[p], v);
              int[] results = target.int32s(2, "outputs");
              if (loop && c == 1 && p < results.length) changed |= bind(fb, called[c], results[p], v);
            }
            if (loop && i < op.outputs().length) changed |= bind(fb, sg.index(), op.outputs()[i], v);
          }
        }
      }
    }
  }

  private boolean bind(FlatBuffer fb, int subgraph, int tensor, Variable v) throws ModelFormatException {
    Variable old = byTensor.get(slot(subgraph, tensor));
    if (old == v) return false;
    if (old != null) {
      throw new ModelFormatException(fb.file(), "subgraph " + subgraph + " tensor " + tensor + " is the handle of resource variable '"
          + old.key + "' and, through control flow, of '" + v.key + "'; Kiln resolves every handle to one variable at compile time");
    }
    byTensor.put(slot(subgraph, tensor), v);
    return true;
  }

  /** True if tensor {@code tensor} of {@code subgraph} is a resource handle (resolved to a variable). */
  boolean isHandle(int subgraph, int tensor) { return tensor >= 0 && byTensor.containsKey(slot(subgraph, tensor)); }

  /** The variable tensor replacing resource tensor {@code tensor} of {@code subgraph}, or null if it is none. */
  TensorInfo variableTensor(int subgraph, int tensor) throws ModelFormatException {
    Variable v = byTensor.get(slot(subgraph, tensor));
    if (v == null) return null;
    TensorInfo value = v.value;
    String name = "resource:" + v.key;
    if (value == null) return new TensorInfo(tensor, name, new int[] {1}, DType.INT8, Quantization.NONE, null, true);
    return new TensorInfo(tensor, name, value.shape(), value.dtype(), value.quantization(), null, true);
  }

  /** The shared C name of the variable behind tensor {@code tensor} of {@code subgraph}, or null. */
  String cName(int subgraph, int tensor) {
    Variable v = byTensor.get(slot(subgraph, tensor));
    return v == null ? null : v.cName;
  }

  /** How many variables the model has. */
  int count() { return new ArrayList<>(new java.util.LinkedHashSet<>(byTensor.values())).size(); }
}
