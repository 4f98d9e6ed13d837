package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One protobuf message's records, read with every length checked against the enclosing message
 * (onnx-format.md section 1). A reader knows where it is in the model ({@code
 * graph.node[3].attribute[0]}), so every error names the message path, the field number and the
 * byte offset in the file, and says what was expected.
 *
 * <p>Use: {@code while (r.next()) switch (r.field()) { case 1 -> r.int64(); ... default -> r.skip(); }}.
 * Wire types 3/4 (groups, unused by ONNX) are errors; unknown fields are skipped by wire type.
 */
final class Wire {
  static final int VARINT = 0;
  static final int I64 = 1;
  static final int LEN = 2;
  static final int I32 = 5;

  private final String file;
  private final byte[] data;
  private final String path;
  private final int end;
  private int pos;
  private int field;
  private int wireType;
  private int recordStart;

  private Wire(String file, byte[] data, String path, int start, int end) {
    this.file = file;
    this.data = data;
    this.path = path;
    this.pos = start;
    this.end = end;
  }

  /** The whole file as the top-level message {@code path} (e.g. "ModelProto"). */
  static Wire of(String file, byte[] data, String path) {
    return new Wire(file, data, path, 0, data.length);
  }

  String path() { return path; }

  String file() { return file; }

  /** Byte offset in the file of the current record's key. */
  int offset() { return recordStart; }

  int field() { return field; }

  int wireType() { return wireType; }

  /** Reads the next record's key; false at the end of the message. */
  boolean next() throws ModelFormatException {
    if (pos >= end) return false;
    recordStart = pos;
    long key = rawVarint("a record key");
    long number = key >>> 3;
    int type = (int) (key & 7);
    if (number == 0 || number > 536_870_911L) {
      throw error("a record key at byte " + recordStart + " has field number " + number
          + " (valid numbers are 1..536870911); the bytes are not a protobuf message here");
    }
    if (type == 3 || type == 4) {
      throw error("field " + number + " at byte " + recordStart + " uses the protobuf group wire type " + type
          + ", which ONNX never writes; the file is corrupt or not an ONNX model");
    }
    if (type != VARINT && type != I64 && type != LEN && type != I32) {
      throw error("field " + number + " at byte " + recordStart + " has wire type " + type
          + ", which does not exist (0, 1, 2, 5 are valid); the file is corrupt or not an ONNX model");
    }
    field = (int) number;
    wireType = type;
    return true;
  }

  /** Skips the current record's payload. */
  void skip() throws ModelFormatException {
    switch (wireType) {
      case VARINT -> rawVarint("field " + field);
      case I64 -> advance(8, "field " + field + " (8-byte value)");
      case I32 -> advance(4, "field " + field + " (4-byte value)");
      default -> advance(length("field " + field), "field " + field);
    }
  }

  // ---- scalars -------------------------------------------------------------------------------

  /** A varint field as int64 (two's complement, no ZigZag: a negative value is a 10-byte varint). */
  long int64(String name) throws ModelFormatException {
    expect(VARINT, name);
    return rawVarint(name);
  }

  /** A varint int32 field: the low 32 bits of the sign-extended value, as protobuf does. */
  int int32(String name) throws ModelFormatException {
    return (int) int64(name);
  }

  float float32(String name) throws ModelFormatException {
    expect(I32, name);
    return Float.intBitsToFloat(rawFixed32(name));
  }

  byte[] bytes(String name) throws ModelFormatException {
    expect(LEN, name);
    int n = length(name + " (field " + field + ")");
    byte[] b = new byte[n];
    System.arraycopy(data, pos, b, 0, n);
    pos += n;
    return b;
  }

  String string(String name) throws ModelFormatException {
    int at = pos;
    byte[] b = bytes(name);
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer c = d.decode(ByteBuffer.wrap(b));
      return c.toString();
    } catch (CharacterCodingException e) {
      throw error(name + " (field " + field + ") at byte " + at + " is not valid UTF-8 text");
    }
  }

  /** The current LEN record as a sub-message; the caller reads it to its end. */
  Wire message(String childPath) throws ModelFormatException {
    expect(LEN, childPath);
    int n = length(childPath.substring(childPath.lastIndexOf('.') + 1) + " (field " + field + ")");
    Wire child = new Wire(file, data, childPath, pos, pos + n);
    pos += n;
    return child;
  }

  /** A LEN record's payload bounds [start, end) in the file, skipped (raw tensor bytes are copied later, once). */
  int[] span(String name) throws ModelFormatException {
    expect(LEN, name);
    int n = length(name + " (field " + field + ")");
    int[] s = {pos, pos + n};
    pos += n;
    return s;
  }

  byte[] data() { return data; }

  // ---- repeated scalars: packed (one LEN record) or not (one record per element) ----------

  /** Appends the values of a repeated varint field's current record to {@code out}. */
  void varints(String name, LongList out) throws ModelFormatException {
    if (wireType == VARINT) {
      out.add(rawVarint(name));
      return;
    }
    expect(LEN, name);
    int n = length("packed " + name + " (field " + field + ")");
    int stop = pos + n;
    while (pos < stop) {
      long v = rawVarintWithin(name, stop);
      out.add(v);
    }
  }

  /** Appends the values of a repeated 4-byte field's current record (float or fixed32) as raw bits. */
  void fixed32s(String name, IntList out) throws ModelFormatException {
    if (wireType == I32) {
      out.add(rawFixed32(name));
      return;
    }
    expect(LEN, name);
    int n = length("packed " + name + " (field " + field + ")");
    if (n % 4 != 0) {
      throw error("the packed " + name + " (field " + field + ") at byte " + recordStart + " holds " + n
          + " bytes, not a multiple of 4");
    }
    for (int i = 0; i < n; i += 4) out.add(rawFixed32(name));
  }

  /** Appends the values of a repeated 8-byte field's current record (double or fixed64) as raw bits. */
  void fixed64s(String name, LongList out) throws ModelFormatException {
    if (wireType == I64) {
      out.add(rawFixed64(name));
      return;
    }
    expect(LEN, name);
    int n = length("packed " + name + " (field " + field + ")");
    if (n % 8 != 0) {
      throw error("the packed " + name + " (field " + field + ") at byte " + recordStart + " holds " + n
          + " bytes, not a multiple of 8");
    }
    for (int i = 0; i < n; i += 8) out.add(rawFixed64(name));
  }

  // ---- raw reads ------------------------------------------------------------------------------

  private void expect(int type, String name) throws ModelFormatException {
    if (wireType != type) {
      throw error(name + " (field " + field + ") at byte " + recordStart + " has wire type " + wireType + " ("
          + typeName(wireType) + "), expected " + type + " (" + typeName(type) + ")");
    }
  }

  static String typeName(int type) {
    return switch (type) {
      case VARINT -> "varint";
      case I64 -> "8-byte";
      case LEN -> "length-delimited";
      case I32 -> "4-byte";
      default -> "invalid";
    };
  }

  private int length(String what) throws ModelFormatException {
    int at = pos;
    long n = rawVarint("the length of " + what);
    if (n < 0 || n > end - pos) {
      throw error(what + " at byte " + recordStart + " declares " + Long.toUnsignedString(n) + " bytes (length at byte "
          + at + "), but only " + (end - pos) + " remain in " + path + (end == data.length ? " (the file ends there)" : "")
          + "; the file is truncated or corrupt");
    }
    return (int) n;
  }

  private void advance(int n, String what) throws ModelFormatException {
    if (n > end - pos) {
      throw error(what + " at byte " + recordStart + " needs " + n + " bytes, but only " + (end - pos) + " remain in " + path
          + "; the file is truncated or corrupt");
    }
    pos += n;
  }

  private long rawVarint(String what) throws ModelFormatException {
    return rawVarintWithin(what, end);
  }

  private long rawVarintWithin(String what, int stop) throws ModelFormatException {
    long v = 0;
    int at = pos;
    for (int i = 0; i < 10; i++) {
      if (pos >= stop) {
        throw error(what + " at byte " + at + " is a varint cut off by the end of " + (stop == data.length ? "the file" : path)
            + "; the file is truncated or corrupt");
      }
      int b = data[pos++] & 0xff;
      v |= (long) (b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (i == 9 && b > 1) throw error(what + " at byte " + at + " is a varint longer than 64 bits");
        return v;
      }
    }
    throw error(what + " at byte " + at + " is a varint longer than 10 bytes; the file is corrupt");
  }

  private int rawFixed32(String what) throws ModelFormatException {
    int at = pos;
    advance(4, what);
    return (data[at] & 0xff) | (data[at + 1] & 0xff) << 8 | (data[at + 2] & 0xff) << 16 | (data[at + 3] & 0xff) << 24;
  }

  private long rawFixed64(String what) throws ModelFormatException {
    int at = pos;
    advance(8, what);
    long v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (data[at + i] & 0xff);
    return v;
  }

  ModelFormatException error(String problem) {
    return new ModelFormatException(file, "truncated or corrupt ONNX file: in " + path + ", " + problem);
  }

  /** A growable long array. */
  static final class LongList {
    private long[] v = new long[8];
    private int n;

    void add(long x) {
      if (n == v.length) v = java.util.Arrays.copyOf(v, n * 2);
      v[n++] = x;
    }

    int size() { return n; }

    long get(int i) { return v[i]; }

    long[] toArray() { return java.util.Arrays.copyOf(v, n); }
  }

  /** A growable int array. */
  static final class IntList {
    private int[] v = new int[8];
    private int n;

    void add(int x) {
      if (n == v.length) v = java.util.Arrays.copyOf(v, n * 2);
      v[n++] = x;
    }

    int size() { return n; }

    int get(int i) { return v[i]; }

    int[] toArray() { return java.util.Arrays.copyOf(v, n); }
  }
}
