package dev.kiln.frontend.tflite;

import dev.kiln.frontend.tflite.FlatBufferWriter.Obj;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds small {@code .tflite} files for tests the way the converter lays them out (each activation
 * with its own empty buffer, buffer 0 the empty sentinel), with hooks to break any rule. Slot
 * numbers are those of tflite-format.md section 2.
 */
final class TestModel {
  static final int FLOAT32 = 0;
  static final int FLOAT16 = 1;
  static final int INT32 = 2;
  static final int INT64 = 4;
  static final int INT8 = 9;

  private final List<Obj> tensors = new ArrayList<>();
  private final List<Obj> buffers = new ArrayList<>(List.of(new Obj()));
  private final List<Obj> opcodes = new ArrayList<>();
  private final List<Obj> operators = new ArrayList<>();
  private final List<Obj> signatures = new ArrayList<>();
  private final Obj subgraph = new Obj().str(4, "main");
  private final List<Obj> extraSubgraphs = new ArrayList<>();
  private int[] inputs = {};
  private int[] outputs = {};
  private Integer version = 3;

  /** An activation or input: its own empty buffer, no data. */
  int tensor(String name, int type, int... shape) {
    buffers.add(new Obj());
    Obj t = new Obj().ints(0, shape).i8(1, type).i32(2, buffers.size() - 1).str(3, name).obj(4, new Obj());
    tensors.add(t);
    return tensors.size() - 1;
  }

  int constant(String name, int type, int[] shape, byte[] data) {
    int i = tensor(name, type, shape);
    buffers.get(buffers.size() - 1).bytes(0, data);
    return i;
  }

  int int32s(String name, int[] shape, int... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) b.putInt(v);
    return constant(name, INT32, shape, b.array());
  }

  int int64s(String name, int[] shape, long... values) {
    ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) b.putLong(v);
    return constant(name, INT64, shape, b.array());
  }

  /** A float constant of the given shape filled with zeros. */
  int floats(String name, int... shape) {
    int n = 1;
    for (int d : shape) n *= d;
    return constant(name, FLOAT32, shape, new byte[4 * n]);
  }

  Obj tensorTable(int i) { return tensors.get(i); }

  /** The Buffer table a tensor points to (its own, as the converter writes them). */
  Obj bufferOf(int tensor) { return buffers.get(tensor + 1); }

  int bufferCount() { return buffers.size(); }

  TestModel quant(int tensor, float[] scales, long[] zeroPoints, int axis) {
    tensors.get(tensor).obj(4, new Obj().floats(2, scales).longs(3, zeroPoints).i32(6, axis));
    return this;
  }

  /** An operator with its own OperatorCode entry (builtin_code and, below 127, the deprecated field too). */
  Obj op(int builtin, int[] in, int[] out) {
    Obj code = new Obj().i8(0, Math.min(builtin, 127)).i32(3, builtin);
    opcodes.add(code);
    Obj op = new Obj().i32(0, opcodes.size() - 1).ints(1, in).ints(2, out);
    operators.add(op);
    return op;
  }

  Obj op(int builtin, int[] in, int[] out, int optionsType, Obj options) {
    return op(builtin, in, out).i8(3, optionsType).obj(4, options);
  }

  Obj customOp(String customCode, int[] in, int[] out) {
    opcodes.add(new Obj().i8(0, 32).str(1, customCode).i32(3, 32));
    Obj op = new Obj().i32(0, opcodes.size() - 1).ints(1, in).ints(2, out);
    operators.add(op);
    return op;
  }

  Obj opcodeOf(int operator) { return opcodes.get(operator); }

  TestModel io(int[] in, int[] out) {
    inputs = in;
    outputs = out;
    return this;
  }

  TestModel version(Integer v) {
    version = v;
    return this;
  }

  TestModel extraSubgraph() {
    extraSubgraphs.add(new Obj().str(4, "body"));
    return this;
  }

  /** A populated extra subgraph (its own tensors, operators and I/O, tables as {@link #model()} writes them). */
  TestModel extraSubgraph(List<Obj> subgraphTensors, int[] in, int[] out, List<Obj> subgraphOperators) {
    extraSubgraphs.add(new Obj().objs(0, subgraphTensors).ints(1, in).ints(2, out).objs(3, subgraphOperators).str(4, "body"));
    return this;
  }

  /** A tensor table for {@link #extraSubgraph(List, int[], int[], List)}, with its own empty buffer. */
  Obj subgraphTensor(String name, int type, int... shape) {
    buffers.add(new Obj());
    return new Obj().ints(0, shape).i8(1, type).i32(2, buffers.size() - 1).str(3, name).obj(4, new Obj());
  }

  /** An operator table for {@link #extraSubgraph(List, int[], int[], List)}, with its own OperatorCode entry. */
  Obj subgraphOp(int builtin, int[] in, int[] out) {
    opcodes.add(new Obj().i8(0, Math.min(builtin, 127)).i32(3, builtin));
    return new Obj().i32(0, opcodes.size() - 1).ints(1, in).ints(2, out);
  }

  TestModel signature(String key, Map<String, Integer> in, Map<String, Integer> out) {
    signatures.add(new Obj().objs(0, maps(in)).objs(1, maps(out)).str(2, key).i32(4, 0));
    return this;
  }

  Obj model() {
    subgraph.objs(0, tensors).ints(1, inputs).ints(2, outputs).objs(3, operators);
    List<Obj> subgraphs = new ArrayList<>(List.of(subgraph));
    subgraphs.addAll(extraSubgraphs);
    Obj model = new Obj().objs(1, opcodes).objs(2, subgraphs).str(3, "test model").objs(4, buffers);
    if (version != null) model.i32(0, version);
    if (!signatures.isEmpty()) model.objs(7, signatures);
    return model;
  }

  byte[] bytes() { return FlatBufferWriter.file(model(), "TFL3"); }

  private static List<Obj> maps(Map<String, Integer> m) {
    List<Obj> out = new ArrayList<>();
    new LinkedHashMap<>(m).forEach((k, v) -> out.add(new Obj().str(0, k).i32(1, v)));
    return out;
  }
}
