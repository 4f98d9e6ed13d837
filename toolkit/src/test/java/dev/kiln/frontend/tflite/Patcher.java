package dev.kiln.frontend.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test helper that walks a FlatBuffers file by hand (independently of the reader under test) to
 * find the byte position of a field, so a real model can be patched to break one rule.
 */
final class Patcher {
  private final byte[] bytes;
  private final ByteBuffer b;

  Patcher(byte[] bytes) {
    this.bytes = bytes;
    this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  int root() { return b.getInt(0); }

  /** Absolute position of field {@code slot} of the table at {@code table}; fails if absent. */
  int field(int table, int slot) {
    int vtable = table - b.getInt(table);
    int vsize = Short.toUnsignedInt(b.getShort(vtable));
    int entry = 4 + 2 * slot < vsize ? Short.toUnsignedInt(b.getShort(vtable + 4 + 2 * slot)) : 0;
    if (entry == 0) throw new AssertionError("field " + slot + " absent in table at " + table);
    return table + entry;
  }

  /** Follows the uoffset stored at {@code at}. */
  int follow(int at) { return at + b.getInt(at); }

  /** Position of element {@code i}'s table in the vector of tables at field {@code slot}. */
  int element(int table, int slot, int i) {
    int vector = follow(field(table, slot));
    int at = vector + 4 + 4 * i;
    return follow(at);
  }

  /** Position of the length word of the vector at field {@code slot}. */
  int vector(int table, int slot) { return follow(field(table, slot)); }

  int int32(int at) { return b.getInt(at); }

  void putInt32(int at, int v) { b.putInt(at, v); }

  void putInt8(int at, int v) { bytes[at] = (byte) v; }
}
