package dev.kiln.frontend.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A protobuf writer for tests: records written exactly as asked (packed or not, any field order,
 * unknown fields, broken lengths), so the reader's handling of each wire form can be checked byte
 * for byte. Plus helpers for the few ONNX messages the tests build.
 */
final class ProtoWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  byte[] bytes() { return out.toByteArray(); }

  ProtoWriter raw(byte[] b) {
    out.writeBytes(b);
    return this;
  }

  /** Raw bytes given as ints 0..255. */
  ProtoWriter raw(int... b) {
    for (int x : b) out.write(x);
    return this;
  }

  ProtoWriter key(int field, int wireType) { return rawVarint(((long) field << 3) | wireType); }

  ProtoWriter rawVarint(long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
    return this;
  }

  /** A varint field; negative values become 10-byte varints, as protobuf writes int32/int64. */
  ProtoWriter varint(int field, long v) { return key(field, 0).rawVarint(v); }

  ProtoWriter fixed32(int field, float v) {
    key(field, 5);
    int bits = Float.floatToIntBits(v);
    for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
    return this;
  }

  ProtoWriter fixed64(int field, long v) {
    key(field, 1);
    for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
    return this;
  }

  ProtoWriter bytes(int field, byte[] b) {
    key(field, 2).rawVarint(b.length);
    out.writeBytes(b);
    return this;
  }

  ProtoWriter string(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }

  ProtoWriter message(int field, ProtoWriter m) { return bytes(field, m.bytes()); }

  ProtoWriter packedVarints(int field, long... v) {
    ProtoWriter p = new ProtoWriter();
    for (long x : v) p.rawVarint(x);
    return bytes(field, p.bytes());
  }

  ProtoWriter packedFloats(int field, float... v) {
    ProtoWriter p = new ProtoWriter();
    for (float x : v) {
      int bits = Float.floatToIntBits(x);
      for (int i = 0; i < 4; i++) p.out.write(bits >>> (8 * i));
    }
    return bytes(field, p.bytes());
  }

  // ---- ONNX messages -----------------------------------------------------------------------------

  /** ModelProto with ir_version 8, one ai.onnx opset import and {@code graph}. */
  static ProtoWriter model(int opset, ProtoWriter graph) {
    return new ProtoWriter().varint(1, 8).string(2, "kiln-test").message(7, graph)
        .message(8, new ProtoWriter().string(1, "").varint(2, opset));
  }

  /** ValueInfoProto of a float tensor with static dims. */
  static ProtoWriter valueInfo(String name, int elemType, long... dims) {
    ProtoWriter shape = new ProtoWriter();
    for (long d : dims) shape.message(1, new ProtoWriter().varint(1, d));
    ProtoWriter tensor = new ProtoWriter().varint(1, elemType).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
  }

  static ProtoWriter node(String opType, String[] inputs, String[] outputs, ProtoWriter... attributes) {
    ProtoWriter n = new ProtoWriter();
    for (String i : inputs) n.string(1, i);
    for (String o : outputs) n.string(2, o);
    n.string(4, opType);
    for (ProtoWriter a : attributes) n.message(5, a);
    return n;
  }

  static ProtoWriter intAttribute(String name, long v) {
    return new ProtoWriter().string(1, name).varint(20, 2).varint(3, v);
  }
}
