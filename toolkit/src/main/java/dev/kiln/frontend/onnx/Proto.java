package dev.kiln.frontend.onnx;

import java.util.List;
import java.util.Map;

/**
 * The parts of onnx.proto Kiln reads, as immutable values (onnx-format.md section 2). Field numbers
 * live in {@link ModelParser}; everything here is already bounds-checked. {@code path} fields say
 * where a message sits in the file ({@code graph.initializer[2]}) for later error messages.
 */
final class Proto {
  private Proto() {}

  /** ModelProto: IR version, producer, opset per domain ({@code ""} stored as {@code ai.onnx}), the main graph. */
  record Model(long irVersion, String producerName, String producerVersion, Map<String, Long> opsets, Graph graph,
               List<String> localFunctions) {}

  /** GraphProto. */
  record Graph(String name, List<Node> nodes, List<TensorData> initializers, List<ValueInfo> inputs,
               List<ValueInfo> outputs, int sparseInitializers) {}

  /** NodeProto; {@code index} is the position in the graph's node list. */
  record Node(int index, String name, String opType, String domain, List<String> inputs, List<String> outputs,
              List<Attribute> attributes, String path) {
    /** {@code node 3 '/conv1/Conv' (Conv)}, or {@code node 3 (Conv)} when the node has no name. */
    String label() {
      return "node " + index + (name.isEmpty() ? "" : " '" + name + "'") + " (" + opType + ")";
    }

    Attribute attribute(String attributeName) {
      for (int i = attributes.size() - 1; i >= 0; i--) if (attributes.get(i).name().equals(attributeName)) return attributes.get(i);
      return null;
    }

    /** Input {@code i}, or null when absent or given as {@code ""} (an optional input left out). */
    String input(int i) {
      return i < inputs.size() && !inputs.get(i).isEmpty() ? inputs.get(i) : null;
    }
  }

  /**
   * AttributeProto: the {@code type} (AttributeType; inferred from the value field for files older
   * than IR 2) and every value field that was present.
   */
  record Attribute(String name, int type, float f, long i, byte[] s, TensorData t, float[] floats, long[] ints,
                   List<byte[]> strings, int graphs, int tensors, String path) {
    static final int FLOAT = 1;
    static final int INT = 2;
    static final int STRING = 3;
    static final int TENSOR = 4;
    static final int GRAPH = 5;
    static final int FLOATS = 6;
    static final int INTS = 7;
    static final int STRINGS = 8;
    static final int TENSORS = 9;
    static final int GRAPHS = 10;

    static String typeName(int type) {
      return switch (type) {
        case 0 -> "UNDEFINED";
        case FLOAT -> "FLOAT";
        case INT -> "INT";
        case STRING -> "STRING";
        case TENSOR -> "TENSOR";
        case GRAPH -> "GRAPH";
        case FLOATS -> "FLOATS";
        case INTS -> "INTS";
        case STRINGS -> "STRINGS";
        case TENSORS -> "TENSORS";
        case GRAPHS -> "GRAPHS";
        case 11 -> "SPARSE_TENSOR";
        case 12 -> "SPARSE_TENSORS";
        case 13 -> "TYPE_PROTO";
        case 14 -> "TYPE_PROTOS";
        default -> "type " + type;
      };
    }
  }

  /** One dimension of a TensorShapeProto: a value, a symbolic name, or neither (unknown). */
  record Dim(Long value, String param) {
    boolean isStatic() { return value != null; }

    @Override public String toString() { return value != null ? value.toString() : param != null && !param.isEmpty() ? param : "?"; }
  }

  /** ValueInfoProto of a tensor: element type (0 if unknown or not a tensor) and dims (null = unknown rank). */
  record ValueInfo(String name, int elemType, List<Dim> dims, String kind) {}

  /** ValueInfo.elemType when the declaration gives no elem_type field at all. */
  static final int NO_ELEM_TYPE = -1;

  /**
   * TensorProto: dims, data type and where its elements are. Raw bytes stay in the file buffer
   * ({@code rawStart}/{@code rawEnd}, -1 when absent) until decoded; typed fields are kept as lists.
   */
  record TensorData(String path, String name, long[] dims, int dataType, int rawStart, int rawEnd, int[] floatBits,
                    long[] int32s, long[] int64s, long[] doubleBits, long[] uint64s, int strings,
                    Map<String, String> externalData, int dataLocation, boolean segmented) {
    boolean hasRaw() { return rawStart >= 0; }

    boolean isExternal() { return dataLocation == 1 || !externalData.isEmpty(); }
  }
}
