package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A whole FlatBuffers file with bounds-checked little-endian reads. Every read states what it is
 * reading ({@code "Tensor.shape"}), so a fuzzed or truncated file fails with the field and byte
 * offset named instead of an exception from deep inside a loop.
 *
 * <p>All positions are {@code long} so that an offset plus a length read from the file can never
 * overflow before it is compared with the file size.
 */
final class FlatBuffer {
  private final String file;
  private final byte[] data;
  private final ByteBuffer bytes;

  FlatBuffer(String file, byte[] data) {
    this.file = file;
    this.data = data;
    // Absolute reads only: never cast model bytes, weights are not aligned (format doc 1.6).
    this.bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }

  String file() { return file; }

  int size() { return data.length; }

  /** The root table, found through the uoffset at byte 0. */
  Table root(String type) throws ModelFormatException {
    return table(follow(0, type + " (root offset)"), type);
  }

  /** The table starting at {@code at}; its vtable is checked here, its fields when read. */
  Table table(long at, String type) throws ModelFormatException {
    require(at, 4, type + " table");
    long vtable = at - int32(at, type + " table");
    if (vtable < 0 || vtable + 4 > size()) {
      throw corrupt("the vtable of the " + type + " table at offset " + at + " would be at offset " + vtable
          + ", outside the file (" + size() + " bytes)");
    }
    int vtableSize = uint16(vtable, type + " vtable");
    int inlineSize = uint16(vtable + 2, type + " vtable");
    if (vtableSize < 4 || vtableSize % 2 != 0) {
      throw corrupt("the vtable of the " + type + " table at offset " + at + " declares " + vtableSize
          + " bytes (must be even and at least 4)");
    }
    if (vtable + vtableSize > size()) {
      throw corrupt("the vtable of the " + type + " table at offset " + vtable + " runs past the end of the file ("
          + size() + " bytes)");
    }
    if (at + inlineSize > size()) {
      throw corrupt("the " + type + " table at offset " + at + " runs past the end of the file (" + size() + " bytes)");
    }
    return new Table(this, type, (int) at, (int) vtable, (vtableSize - 4) / 2);
  }

  /**
   * The position a uoffset stored at {@code at} points to (relative to its own position), checked
   * to leave room for at least a 4-byte table header or vector length.
   */
  long follow(long at, String what) throws ModelFormatException {
    long target = at + uint32(at, what);
    if (target + 4 > size()) {
      throw corrupt(what + " at offset " + at + " points to offset " + target + ", past the end of the file ("
          + size() + " bytes)");
    }
    return target;
  }

  /** The element count of the vector at {@code at}, checked so that all its elements fit in the file. */
  int vectorLength(long at, int elementSize, String what) throws ModelFormatException {
    long count = uint32(at, what + " vector length");
    if (at + 4 + count * elementSize > size()) {
      throw corrupt(what + " vector at offset " + at + " runs past the end of the file (" + size() + " bytes)");
    }
    return (int) count;
  }

  /** A copy of {@code length} bytes at {@code at}. */
  byte[] bytes(long at, long length, String what) throws ModelFormatException {
    require(at, length, what);
    byte[] out = new byte[(int) length];
    System.arraycopy(data, (int) at, out, 0, (int) length);
    return out;
  }

  byte int8(long at, String what) throws ModelFormatException {
    require(at, 1, what);
    return data[(int) at];
  }

  int uint16(long at, String what) throws ModelFormatException {
    require(at, 2, what);
    return Short.toUnsignedInt(bytes.getShort((int) at));
  }

  int int32(long at, String what) throws ModelFormatException {
    require(at, 4, what);
    return bytes.getInt((int) at);
  }

  long uint32(long at, String what) throws ModelFormatException {
    return Integer.toUnsignedLong(int32(at, what));
  }

  long int64(long at, String what) throws ModelFormatException {
    require(at, 8, what);
    return bytes.getLong((int) at);
  }

  float float32(long at, String what) throws ModelFormatException {
    require(at, 4, what);
    return bytes.getFloat((int) at);
  }

  /** Checks that {@code [at, at + length)} lies inside the file. */
  void require(long at, long length, String what) throws ModelFormatException {
    if (at < 0 || length < 0 || at + length > size()) {
      throw corrupt(what + " at offset " + at + " runs past the end of the file (" + size() + " bytes)");
    }
  }

  /** The exception for a structurally broken file; the caller says what and where. */
  ModelFormatException corrupt(String problem) {
    return new ModelFormatException(file, "truncated or corrupt: " + problem);
  }
}
