package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One FlatBuffers table: its fields by slot (field id in declaration order). An absent field (vtable
 * entry 0, or a slot past the vtable's end) reads as the schema default the caller passes, or as
 * null / an empty array for strings, tables and vectors (format doc 1.3, 1.5).
 */
final class Table {
  private final FlatBuffer fb;
  private final String type;
  private final int position;
  private final int vtable;
  private final int slots;

  Table(FlatBuffer fb, String type, int position, int vtable, int slots) {
    this.fb = fb;
    this.type = type;
    this.position = position;
    this.vtable = vtable;
    this.slots = slots;
  }

  /** The schema type name, e.g. {@code Tensor}, used in messages. */
  String type() { return type; }

  /** Byte offset of the table in the file. */
  int position() { return position; }

  boolean has(int slot) throws ModelFormatException {
    return fieldOffset(slot, "") != 0;
  }

  byte int8(int slot, String field, int dflt) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? (byte) dflt : fb.int8(at, name(field));
  }

  int uint8(int slot, String field) throws ModelFormatException {
    return Byte.toUnsignedInt(int8(slot, field, 0));
  }

  boolean bool(int slot, String field, boolean dflt) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? dflt : fb.int8(at, name(field)) != 0;
  }

  int int32(int slot, String field, int dflt) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? dflt : fb.int32(at, name(field));
  }

  long uint32(int slot, String field) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? 0 : fb.uint32(at, name(field));
  }

  /** An int64, or a uint64 read as a signed long (callers treat negative as "too large"). */
  long int64(int slot, String field) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? 0 : fb.int64(at, name(field));
  }

  float float32(int slot, String field, float dflt) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? dflt : fb.float32(at, name(field));
  }

  /** A sub-table, or null when absent. */
  Table table(int slot, String field, String tableType) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? null : fb.table(fb.follow(at, name(field)), tableType);
  }

  /** A UTF-8 string, or null when absent. Malformed UTF-8 is replaced, never an error. */
  String string(int slot, String field) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0) return null;
    int n = fb.vectorLength(v, 1, name(field) + " string");
    return new String(fb.bytes(v + 4, n, name(field)), StandardCharsets.UTF_8);
  }

  int[] int32s(int slot, String field) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0) return new int[0];
    int[] out = new int[fb.vectorLength(v, 4, name(field))];
    for (int i = 0; i < out.length; i++) out[i] = fb.int32(v + 4 + 4L * i, name(field));
    return out;
  }

  long[] int64s(int slot, String field) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0) return new long[0];
    long[] out = new long[fb.vectorLength(v, 8, name(field))];
    for (int i = 0; i < out.length; i++) out[i] = fb.int64(v + 4 + 8L * i, name(field));
    return out;
  }

  float[] float32s(int slot, String field) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0) return new float[0];
    float[] out = new float[fb.vectorLength(v, 4, name(field))];
    for (int i = 0; i < out.length; i++) out[i] = fb.float32(v + 4 + 4L * i, name(field));
    return out;
  }

  /** A [ubyte] vector's bytes (copied), or null when the field is absent. */
  byte[] bytes(int slot, String field) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0) return null;
    int n = fb.vectorLength(v, 1, name(field));
    return fb.bytes(v + 4, n, name(field));
  }

  /** The element count of a vector field (0 when absent), without reading the elements. */
  int vectorLength(int slot, String field, int elementSize) throws ModelFormatException {
    long v = vector(slot, field);
    return v < 0 ? 0 : fb.vectorLength(v, elementSize, name(field));
  }

  /** A vector of tables; each element's uoffset is relative to the element itself. */
  List<Table> tables(int slot, String field, String elementType) throws ModelFormatException {
    int n = vectorLength(slot, field, 4);
    List<Table> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) out.add(table(slot, field, elementType, i));
    return out;
  }

  /** Element {@code i} of a vector of tables (the caller checked {@code i} against its length). */
  Table table(int slot, String field, String elementType, int i) throws ModelFormatException {
    long v = vector(slot, field);
    if (v < 0 || i >= fb.vectorLength(v, 4, name(field))) {
      throw fb.corrupt(name(field) + " has no element " + i);
    }
    long element = v + 4 + 4L * i;
    return fb.table(fb.follow(element, name(field) + "[" + i + "]"), elementType);
  }

  @Override public String toString() { return type + "@" + position; }

  /** Position of the vector a field points to, or -1 when absent. */
  private long vector(int slot, String field) throws ModelFormatException {
    long at = at(slot, field);
    return at < 0 ? -1 : fb.follow(at, name(field));
  }

  /** Absolute position of a field's inline value, or -1 when absent. */
  private long at(int slot, String field) throws ModelFormatException {
    int offset = fieldOffset(slot, field);
    return offset == 0 ? -1 : (long) position + offset;
  }

  private int fieldOffset(int slot, String field) throws ModelFormatException {
    if (slot >= slots) return 0;
    return fb.uint16(vtable + 4L + 2L * slot, name(field) + " vtable entry");
  }

  private String name(String field) { return type + "." + field; }
}
