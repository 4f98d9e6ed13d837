package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ModelProto -> {@link Proto} values, field numbers from onnx-format.md section 2. Unknown fields are
 * skipped; repeated scalars are accepted packed and unpacked; a singular message field seen twice
 * is merged (its repeated fields concatenate, its scalars take the last value), as protobuf does.
 */
final class ModelParser {
  private final String file;
  private final byte[] bytes;

  ModelParser(String file, byte[] bytes) {
    this.file = file;
    this.bytes = bytes;
  }

  Proto.Model parse() throws ModelFormatException {
    Wire r = Wire.of(file, bytes, "ModelProto");
    long ir = 0;
    boolean sawIr = false;
    String producer = "";
    String producerVersion = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    GraphBuilder graph = null;
    List<String> functions = new ArrayList<>();
    int opsetCount = 0;
    while (r.next()) {
      switch (r.field()) {
        case 1 -> {
          ir = r.int64("ir_version");
          sawIr = true;
        }
        case 2 -> producer = r.string("producer_name");
        case 3 -> producerVersion = r.string("producer_version");
        case 7 -> {
          if (graph == null) graph = new GraphBuilder();
          graph.read(r.message("graph"), "graph");
        }
        case 8 -> {
          Wire m = r.message("opset_import[" + opsetCount++ + "]");
          String domain = "";
          long version = 0;
          while (m.next()) {
            switch (m.field()) {
              case 1 -> domain = m.string("domain");
              case 2 -> version = m.int64("version");
              default -> m.skip();
            }
          }
          opsets.put(domain.isEmpty() ? "ai.onnx" : domain, version);
        }
        case 25 -> functions.add(function(r.message("functions[" + functions.size() + "]")));
        default -> r.skip();
      }
    }
    if (!sawIr && graph == null && opsets.isEmpty()) {
      throw new ModelFormatException(file, "not an ONNX model: the file parses as protobuf but has none of ModelProto's "
          + "ir_version (field 1), graph (field 7) or opset_import (field 8)");
    }
    if (graph == null) {
      throw new ModelFormatException(file, "the ONNX model has no graph (ModelProto field 7), so there is nothing to compile");
    }
    return new Proto.Model(ir, producer, producerVersion, opsets, graph.build(), functions);
  }

  /** A model-local function's {@code domain:name}, for messages about nodes that call one. */
  private static String function(Wire r) throws ModelFormatException {
    String name = "";
    String domain = "";
    while (r.next()) {
      switch (r.field()) {
        case 1 -> name = r.string("name");
        case 10 -> domain = r.string("domain");
        default -> r.skip();
      }
    }
    return domain + ":" + name;
  }

  private final class GraphBuilder {
    String name = "";
    final List<Proto.Node> nodes = new ArrayList<>();
    final List<Proto.TensorData> initializers = new ArrayList<>();
    final List<Proto.ValueInfo> inputs = new ArrayList<>();
    final List<Proto.ValueInfo> outputs = new ArrayList<>();
    int sparse;

    void read(Wire r, String path) throws ModelFormatException {
      while (r.next()) {
        switch (r.field()) {
          case 1 -> nodes.add(node(r.message(path + ".node[" + nodes.size() + "]"), nodes.size()));
          case 2 -> name = r.string("name");
          case 5 -> initializers.add(tensor(r.message(path + ".initializer[" + initializers.size() + "]")));
          case 11 -> inputs.add(valueInfo(r.message(path + ".input[" + inputs.size() + "]")));
          case 12 -> outputs.add(valueInfo(r.message(path + ".output[" + outputs.size() + "]")));
          case 15 -> {
            sparse++;
            r.skip();
          }
          default -> r.skip();
        }
      }
    }

    Proto.Graph build() {
      return new Proto.Graph(name, List.copyOf(nodes), List.copyOf(initializers), List.copyOf(inputs), List.copyOf(outputs), sparse);
    }
  }

  private Proto.Node node(Wire r, int index) throws ModelFormatException {
    List<String> in = new ArrayList<>();
    List<String> out = new ArrayList<>();
    List<Proto.Attribute> attrs = new ArrayList<>();
    String name = "";
    String opType = "";
    String domain = "";
    while (r.next()) {
      switch (r.field()) {
        case 1 -> in.add(r.string("input"));
        case 2 -> out.add(r.string("output"));
        case 3 -> name = r.string("name");
        case 4 -> opType = r.string("op_type");
        case 5 -> attrs.add(attribute(r.message(r.path() + ".attribute[" + attrs.size() + "]")));
        case 7 -> domain = r.string("domain");
        default -> r.skip();
      }
    }
    return new Proto.Node(index, name, opType, domain, List.copyOf(in), List.copyOf(out), List.copyOf(attrs), r.path());
  }

  private Proto.Attribute attribute(Wire r) throws ModelFormatException {
    String name = "";
    int type = 0;
    float f = 0;
    long i = 0;
    byte[] s = null;
    Proto.TensorData t = null;
    Wire.IntList floats = new Wire.IntList();
    Wire.LongList ints = new Wire.LongList();
    List<byte[]> strings = new ArrayList<>();
    int graphs = 0;
    int tensors = 0;
    int sparse = 0;
    int inferred = 0;
    while (r.next()) {
      switch (r.field()) {
        case 1 -> name = r.string("name");
        case 20 -> type = r.int32("type");
        case 2 -> {
          f = r.float32("f");
          inferred = Proto.Attribute.FLOAT;
        }
        case 3 -> {
          i = r.int64("i");
          inferred = Proto.Attribute.INT;
        }
        case 4 -> {
          s = r.bytes("s");
          inferred = Proto.Attribute.STRING;
        }
        case 5 -> {
          t = tensor(r.message(r.path() + ".t"));
          inferred = Proto.Attribute.TENSOR;
        }
        case 6 -> {
          graphs++;
          r.skip();
          inferred = Proto.Attribute.GRAPH;
        }
        case 7 -> {
          r.fixed32s("floats", floats);
          inferred = Proto.Attribute.FLOATS;
        }
        case 8 -> {
          r.varints("ints", ints);
          inferred = Proto.Attribute.INTS;
        }
        case 9 -> {
          strings.add(r.bytes("strings"));
          inferred = Proto.Attribute.STRINGS;
        }
        case 10 -> {
          tensors++;
          r.skip();
          inferred = Proto.Attribute.TENSORS;
        }
        case 11 -> {
          graphs++;
          r.skip();
          inferred = Proto.Attribute.GRAPHS;
        }
        case 22, 23 -> {
          sparse++;
          r.skip();
          inferred = r.field() == 22 ? 11 : 12;
        }
        default -> r.skip();
      }
    }
    float[] fl = new float[floats.size()];
    for (int k = 0; k < fl.length; k++) fl[k] = Float.intBitsToFloat(floats.get(k));
    return new Proto.Attribute(name, type != 0 ? type : inferred, f, i, s, t, fl, ints.toArray(), List.copyOf(strings),
        graphs, tensors + sparse, r.path());
  }

  private Proto.ValueInfo valueInfo(Wire r) throws ModelFormatException {
    String name = "";
    int elem = Proto.NO_ELEM_TYPE; // told apart from an explicit 0 (UNDEFINED), which a declaration may not say
    List<Proto.Dim> dims = null;
    String kind = "tensor";
    while (r.next()) {
      switch (r.field()) {
        case 1 -> name = r.string("name");
        case 2 -> {
          Wire type = r.message(r.path() + ".type");
          while (type.next()) {
            if (type.field() == 1) {
              Wire tensor = type.message(type.path() + ".tensor_type");
              while (tensor.next()) {
                switch (tensor.field()) {
                  case 1 -> elem = tensor.int32("elem_type");
                  case 2 -> dims = shape(tensor.message(tensor.path() + ".shape"), dims);
                  default -> tensor.skip();
                }
              }
            } else {
              kind = switch (type.field()) {
                case 4 -> "sequence";
                case 5 -> "map";
                case 7 -> "opaque";
                case 8 -> "sparse tensor";
                case 9 -> "optional";
                default -> kind;
              };
              type.skip();
            }
          }
        }
        default -> r.skip();
      }
    }
    return new Proto.ValueInfo(name, elem, dims == null ? null : List.copyOf(dims), kind);
  }

  private static List<Proto.Dim> shape(Wire r, List<Proto.Dim> merged) throws ModelFormatException {
    List<Proto.Dim> dims = merged == null ? new ArrayList<>() : new ArrayList<>(merged);
    while (r.next()) {
      if (r.field() != 1) {
        r.skip();
        continue;
      }
      Wire d = r.message(r.path() + ".dim[" + dims.size() + "]");
      Long value = null;
      String param = null;
      while (d.next()) {
        switch (d.field()) {
          case 1 -> value = d.int64("dim_value");
          case 2 -> param = d.string("dim_param");
          default -> d.skip();
        }
      }
      dims.add(new Proto.Dim(value, param));
    }
    return dims;
  }

  Proto.TensorData tensor(Wire r) throws ModelFormatException {
    Wire.LongList dims = new Wire.LongList();
    int dataType = 0;
    String name = "";
    int rawStart = -1;
    int rawEnd = -1;
    Wire.IntList floats = new Wire.IntList();
    Wire.LongList int32s = new Wire.LongList();
    Wire.LongList int64s = new Wire.LongList();
    Wire.LongList doubles = new Wire.LongList();
    Wire.LongList uint64s = new Wire.LongList();
    int strings = 0;
    Map<String, String> external = new LinkedHashMap<>();
    int location = 0;
    boolean segment = false;
    while (r.next()) {
      switch (r.field()) {
        case 1 -> r.varints("dims", dims);
        case 2 -> dataType = r.int32("data_type");
        case 3 -> {
          segment = true;
          r.skip();
        }
        case 4 -> r.fixed32s("float_data", floats);
        case 5 -> r.varints("int32_data", int32s);
        case 6 -> {
          strings++;
          r.skip();
        }
        case 7 -> r.varints("int64_data", int64s);
        case 8 -> name = r.string("name");
        case 9 -> {
          int[] span = r.span("raw_data");
          rawStart = span[0];
          rawEnd = span[1];
        }
        case 10 -> r.fixed64s("double_data", doubles);
        case 11 -> r.varints("uint64_data", uint64s);
        case 13 -> {
          Wire e = r.message(r.path() + ".external_data[" + external.size() + "]");
          String key = "";
          String value = "";
          while (e.next()) {
            switch (e.field()) {
              case 1 -> key = e.string("key");
              case 2 -> value = e.string("value");
              default -> e.skip();
            }
          }
          external.put(key, value);
        }
        case 14 -> location = r.int32("data_location");
        default -> r.skip();
      }
    }
    return new Proto.TensorData(r.path(), name, dims.toArray(), dataType, rawStart, rawEnd, floats.toArray(), int32s.toArray(),
        int64s.toArray(), doubles.toArray(), uint64s.toArray(), strings, java.util.Collections.unmodifiableMap(external), location, segment);
  }
}
