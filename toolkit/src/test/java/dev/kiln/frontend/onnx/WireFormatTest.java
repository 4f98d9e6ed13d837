package dev.kiln.frontend.onnx;

import static dev.kiln.frontend.onnx.ProtoWriter.intAttribute;
import static dev.kiln.frontend.onnx.ProtoWriter.model;
import static dev.kiln.frontend.onnx.ProtoWriter.node;
import static dev.kiln.frontend.onnx.ProtoWriter.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The protobuf wire forms the reader must accept (onnx-format.md section 1: packed and unpacked
 * repeated scalars, 10-byte negative varints, unknown fields of every wire type) and the broken
 * ones it must name: field, byte offset, what was expected.
 */
class WireFormatTest {
  private static final int FLOAT = 1;
  private static final int INT8 = 3;

  static Graph read(ProtoWriter model) throws ModelFormatException {
    return OnnxReader.read("test.onnx", model.bytes(), Map.of());
  }

  static String error(ProtoWriter model) {
    return assertThrows(ModelFormatException.class, () -> read(model)).getMessage();
  }

  /** x [1,3] + w [3] -> y, with w written by {@code w}. */
  static ProtoWriter addModel(ProtoWriter w) {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Add", new String[] {"x", "w"}, new String[] {"y"}))
        .string(2, "g")
        .message(5, w)
        .message(11, valueInfo("x", FLOAT, 1, 3))
        .message(12, valueInfo("y", FLOAT, 1, 3));
    return model(13, graph);
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  static Tensor constant(Graph g, String name) {
    return g.tensors().stream().filter(t -> t.isConstant() && t.name().equals(name)).findFirst().orElseThrow();
  }

  @Test void dimsAndFloatDataMayBePackedOrOneRecordPerElement() throws Exception {
    ProtoWriter unpacked = new ProtoWriter().varint(1, 3).varint(2, FLOAT).string(8, "w")
        .fixed32(4, 1.5f).fixed32(4, -2f).fixed32(4, 0.25f);
    ProtoWriter packed = new ProtoWriter().packedVarints(1, 3).varint(2, FLOAT).string(8, "w").packedFloats(4, 1.5f, -2f, 0.25f);
    ProtoWriter split = new ProtoWriter().packedVarints(1, 3).varint(2, FLOAT).string(8, "w").packedFloats(4, 1.5f)
        .packedFloats(4, -2f, 0.25f);
    ProtoWriter raw = new ProtoWriter().varint(1, 3).varint(2, FLOAT).string(8, "w").bytes(9, floats(1.5f, -2f, 0.25f));
    for (ProtoWriter w : new ProtoWriter[] {unpacked, packed, split, raw}) {
      Graph g = read(addModel(w));
      assertArrayEquals(floats(1.5f, -2f, 0.25f), constant(g, "w").data());
      assertArrayEquals(new int[] {1, 3}, constant(g, "w").shape());
    }
  }

  /** Q(x) -> DQ with an int8 zero point of -128 in int32_data: a 10-byte varint, packed or not. */
  static ProtoWriter qdqModel(ProtoWriter zeroPoint) {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("QuantizeLinear", new String[] {"x", "s", "zp"}, new String[] {"q"}))
        .message(1, node("DequantizeLinear", new String[] {"q", "s", "zp"}, new String[] {"y"}))
        .message(5, new ProtoWriter().varint(2, FLOAT).string(8, "s").packedFloats(4, 0.5f))
        .message(5, zeroPoint)
        .message(11, valueInfo("x", FLOAT, 2, 2))
        .message(12, valueInfo("y", FLOAT, 2, 2));
    return model(13, graph);
  }

  @Test void aNegativeZeroPointIsATenByteVarintPackedOrNot() throws Exception {
    ProtoWriter packed = new ProtoWriter().varint(2, INT8).string(8, "zp").packedVarints(5, -128);
    ProtoWriter unpacked = new ProtoWriter().varint(2, INT8).string(8, "zp").varint(5, -128);
    assertEquals(10, new ProtoWriter().rawVarint(-128).bytes().length);
    for (ProtoWriter zp : new ProtoWriter[] {packed, unpacked}) {
      Graph g = read(qdqModel(zp));
      Op quantize = g.ops().stream().filter(o -> o.type() == OpType.QUANTIZE).findFirst().orElseThrow();
      assertEquals(-128, quantize.output().quantization().zeroPoint());
      assertEquals(0.5f, quantize.output().quantization().scale());
    }
  }

  @Test void unknownFieldsOfEveryWireTypeAreSkippedAtEveryLevel() throws Exception {
    ProtoWriter junk = new ProtoWriter().varint(99, -1).fixed64(98, 7).string(97, "later onnx").fixed32(96, 1f);
    ProtoWriter w = new ProtoWriter().varint(1, 3).raw(junk.bytes()).varint(2, FLOAT).string(8, "w").bytes(9, floats(1, 2, 3));
    ProtoWriter n = node("Add", new String[] {"x", "w"}, new String[] {"y"}).raw(junk.bytes());
    ProtoWriter graph = new ProtoWriter().raw(junk.bytes()).message(1, n).message(5, w)
        .message(11, valueInfo("x", FLOAT, 1, 3).raw(junk.bytes())).message(12, valueInfo("y", FLOAT, 1, 3));
    ProtoWriter m = new ProtoWriter().raw(junk.bytes()).varint(1, 8).message(7, graph)
        .message(8, new ProtoWriter().varint(2, 13).raw(junk.bytes())).raw(junk.bytes());
    Graph g = read(m);
    assertEquals(1, g.ops().size());
    assertEquals(OpType.ADD, g.ops().get(0).type());
  }

  @Test void anIntAttributeWithoutItsValueIsZeroNotTheOperatorsDefault() throws Exception {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Flatten", new String[] {"x"}, new String[] {"y"}, new ProtoWriter().string(1, "axis").varint(20, 2)))
        .message(11, valueInfo("x", FLOAT, 2, 3))
        .message(12, valueInfo("y", FLOAT, 1, 6));
    assertArrayEquals(new int[] {1, 6}, read(model(13, graph)).outputs().get(0).shape());
  }

  // ---- broken files --------------------------------------------------------------------------

  @Test void aGroupRecordIsNotOnnx() {
    assertEquals("test.onnx: truncated or corrupt ONNX file: in ModelProto, field 7 at byte 2 uses the protobuf group wire type 3,"
        + " which ONNX never writes; the file is corrupt or not an ONNX model", error(new ProtoWriter().varint(1, 8).key(7, 3)));
  }

  @Test void fieldNumberZeroIsNotProtobuf() {
    assertEquals("test.onnx: truncated or corrupt ONNX file: in ModelProto, a record key at byte 2 has field number 0 (valid numbers"
        + " are 1..536870911); the bytes are not a protobuf message here", error(new ProtoWriter().varint(1, 8).raw(0, 0)));
  }

  @Test void aLengthPastItsEnclosingMessageNamesBoth() {
    ProtoWriter graph = new ProtoWriter().key(1, 2).rawVarint(50).raw(1, 2, 3);
    ProtoWriter m = new ProtoWriter().varint(1, 8).message(7, graph).message(8, new ProtoWriter().varint(2, 13))
        .string(2, "x".repeat(80));
    assertEquals("test.onnx: truncated or corrupt ONNX file: in graph, node[0] (field 1) at byte 4 declares 50 bytes (length at"
        + " byte 5), but only 3 remain in graph; the file is truncated or corrupt", error(m));
  }

  @Test void aTruncatedFileSaysWhereItEnds() {
    // ir_version (2 bytes), producer_name "kiln-test" (11 bytes), then the graph's key at byte 13 and its length at 14
    byte[] whole = addModel(new ProtoWriter().varint(1, 3).varint(2, FLOAT).string(8, "w").bytes(9, floats(1, 2, 3))).bytes();
    int graphLength = whole[14];
    byte[] cut = java.util.Arrays.copyOf(whole, 15 + graphLength - 4);
    String m = assertThrows(ModelFormatException.class, () -> OnnxReader.read("cut.onnx", cut, Map.of())).getMessage();
    assertEquals("cut.onnx: truncated or corrupt ONNX file: in ModelProto, graph (field 7) at byte 13 declares " + graphLength
        + " bytes (length at byte 14), but only " + (graphLength - 4) + " remain in ModelProto (the file ends there); the file is"
        + " truncated or corrupt", m);
  }

  @Test void aVarintOfElevenBytesIsCorrupt() {
    assertEquals("test.onnx: truncated or corrupt ONNX file: in ModelProto, ir_version at byte 1 is a varint longer than 10 bytes;"
        + " the file is corrupt", error(new ProtoWriter().key(1, 0).raw(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1})));
  }

  @Test void aKnownFieldWithTheWrongWireTypeNamesBoth() {
    assertEquals("test.onnx: truncated or corrupt ONNX file: in ModelProto, ir_version (field 1) at byte 0 has wire type 2"
        + " (length-delimited), expected 0 (varint)", error(new ProtoWriter().string(1, "8")));
  }

  @Test void invalidUtf8InANameIsNamed() {
    ProtoWriter m = new ProtoWriter().varint(1, 8).bytes(2, new byte[] {'p', (byte) 0xc3});
    assertEquals("test.onnx: truncated or corrupt ONNX file: in ModelProto, producer_name (field 2) at byte 3 is not valid UTF-8 text",
        error(m));
  }

  @Test void aModelWithoutAGraphHasNothingToCompile() {
    assertEquals("test.onnx: the ONNX model has no graph (ModelProto field 7), so there is nothing to compile",
        error(new ProtoWriter().varint(1, 8).message(8, new ProtoWriter().varint(2, 13))));
  }

  @Test void anIrVersionBelowThreeIsRefused() {
    ProtoWriter m = addModel(new ProtoWriter().varint(1, 3).varint(2, FLOAT).string(8, "w").bytes(9, floats(1, 2, 3)));
    ProtoWriter old = new ProtoWriter().raw(m.bytes()).varint(1, 2); // the last ir_version wins
    assertEquals("test.onnx: the model has IR version 2; Kiln reads IR version 3 and newer (onnx 1.1, 2017, on)", error(old));
  }

  @Test void rawDataOfTheWrongSizeIsNamedWithItsTensor() {
    ProtoWriter w = new ProtoWriter().varint(1, 3).varint(2, FLOAT).string(8, "w").bytes(9, floats(1, 2));
    assertEquals("test.onnx: tensor 'w' (graph.initializer[0]) has 8 bytes of raw_data, but dims [3] of FLOAT (1) need 12",
        error(addModel(w)));
  }

  @Test void aTypedValueOutsideItsTypesRangeIsNamed() {
    ProtoWriter zp = new ProtoWriter().varint(2, INT8).string(8, "zp").packedVarints(5, 200);
    assertEquals("test.onnx: tensor 'zp' (graph.initializer[1]) holds 200 at int32_data[0], outside the INT8 (3) range [-128, 127]",
        error(qdqModel(zp)));
  }

  @Test void anAttributeOfTheWrongTypeNamesNodeAndAttribute() {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Flatten", new String[] {"x"}, new String[] {"y"}, new ProtoWriter().string(1, "axis").varint(20, 1)
            .fixed32(2, 1f)))
        .message(11, valueInfo("x", FLOAT, 2, 3))
        .message(12, valueInfo("y", FLOAT, 2, 3));
    assertEquals("test.onnx: node 0 (Flatten): attribute 'axis' has type FLOAT, expected INT", error(model(13, graph)));
  }

  @Test void aNodeReadingAnUndefinedValueIsNamed() {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Relu", new String[] {"zz"}, new String[] {"y"}))
        .message(11, valueInfo("x", FLOAT, 2, 3))
        .message(12, valueInfo("y", FLOAT, 2, 3));
    assertEquals("test.onnx: node 0 (Relu): reads 'zz', which is not a graph input, an initializer or the output of any node",
        error(model(13, graph)));
  }

  @Test void aCycleIsOneErrorNamingItsNodes() {
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Add", new String[] {"x", "b"}, new String[] {"a"}))
        .message(1, node("Relu", new String[] {"a"}, new String[] {"b"}))
        .message(1, node("Relu", new String[] {"a"}, new String[] {"y"}))
        .message(11, valueInfo("x", FLOAT, 2, 3))
        .message(12, valueInfo("y", FLOAT, 2, 3));
    assertEquals("test.onnx: the graph has a cycle: node 0 (Add), node 1 (Relu) wait on each other's outputs; an ONNX"
        + " graph must be acyclic (loops belong in a Loop node)", error(model(13, graph)));
  }

  @Test void nodesOutOfOrderAreSortedAndAClipsLaterBoundsStillFuseIntoTheConv() throws Exception {
    // torchvision's float MobileNetV2 as torch.onnx writes it: Conv, then the Clip's bound Constants, then the Clip
    ProtoWriter w = new ProtoWriter().varint(1, 2).varint(1, 1).varint(1, 1).varint(1, 1).varint(2, FLOAT).string(8, "w")
        .bytes(9, floats(1f, -1f));
    ProtoWriter lo = new ProtoWriter().varint(2, FLOAT).string(8, "lo").bytes(9, floats(0f));
    ProtoWriter hi = new ProtoWriter().varint(2, FLOAT).string(8, "hi").bytes(9, floats(6f));
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Relu", new String[] {"c"}, new String[] {"y"}))
        .message(1, node("Conv", new String[] {"x", "w"}, new String[] {"conv"}))
        .message(1, node("Constant", new String[0], new String[] {"min"}, new ProtoWriter().string(1, "value").varint(20, 4)
            .message(5, lo)))
        .message(1, node("Constant", new String[0], new String[] {"max"}, new ProtoWriter().string(1, "value").varint(20, 4)
            .message(5, hi)))
        .message(1, node("Clip", new String[] {"conv", "min", "max"}, new String[] {"c"}))
        .message(5, w)
        .message(11, valueInfo("x", FLOAT, 1, 1, 2, 2))
        .message(12, valueInfo("y", FLOAT, 1, 2, 2, 2));
    Graph g = read(model(13, graph));
    Op conv = g.ops().stream().filter(o -> o.type() == OpType.CONV_2D).findFirst().orElseThrow();
    assertEquals("RELU6", ((dev.kiln.ir.Options.Conv) conv.options()).activation().toString());
  }

  @Test void aClipBoundComputedFromAShapeAfterTheConvIsFoldedThoughNotFused() throws Exception {
    // max = Cast(Gather(Shape(x), 3)) = 2.0, computed by nodes that follow the Conv and read a run-time shape
    ProtoWriter w = new ProtoWriter().varint(1, 1).varint(1, 1).varint(1, 1).varint(1, 1).varint(2, FLOAT).string(8, "w")
        .bytes(9, floats(3f));
    ProtoWriter three = new ProtoWriter().varint(2, 7).string(8, "three").bytes(9, new byte[] {3, 0, 0, 0, 0, 0, 0, 0});
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Conv", new String[] {"x", "w"}, new String[] {"conv"}))
        .message(1, node("Shape", new String[] {"x"}, new String[] {"s"}))
        .message(1, node("Gather", new String[] {"s", "three"}, new String[] {"g"}))
        .message(1, node("Cast", new String[] {"g"}, new String[] {"max"}, intAttribute("to", FLOAT)))
        .message(1, node("Clip", new String[] {"conv", "", "max"}, new String[] {"y"}))
        .message(5, w)
        .message(5, three)
        .message(11, valueInfo("x", FLOAT, 1, 1, 2, 2))
        .message(12, valueInfo("y", FLOAT, 1, 1, 2, 2));
    Graph g = read(model(13, graph));
    assertEquals(java.util.List.of(OpType.CONV_2D, OpType.CLAMP), g.ops().stream().map(Op::type).filter(t -> t != OpType.RESHAPE).toList());
    Op clamp = g.ops().stream().filter(o -> o.type() == OpType.CLAMP).findFirst().orElseThrow();
    assertEquals(2f, ((dev.kiln.ir.Options.Clamp) clamp.options()).max());
  }

  @Test void aConvWithAWrongGroupSaysWhatFits() {
    ProtoWriter w = new ProtoWriter().varint(1, 4).varint(1, 2).varint(1, 1).varint(1, 1).varint(2, FLOAT).string(8, "w")
        .bytes(9, floats(new float[8]));
    ProtoWriter graph = new ProtoWriter()
        .message(1, node("Conv", new String[] {"x", "w"}, new String[] {"y"}, intAttribute("group", 3)))
        .message(5, w)
        .message(11, valueInfo("x", FLOAT, 1, 6, 2, 2))
        .message(12, valueInfo("y", FLOAT, 1, 4, 2, 2));
    assertEquals("test.onnx: node 0 (Conv): has group 3 with input channels 6 and weights [4,2,1,1]; expected C = group *"
        + " weights[1] and M divisible by group", error(model(13, graph)));
  }
}
