package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import java.util.List;

/**
 * {@code Model.buffers} and the runtime's rule for finding a tensor's constant bytes (format doc
 * 2.4): buffer 0 never holds data; non-empty {@code data} wins; otherwise an {@code offset > 1}
 * names bytes appended after the FlatBuffer (the >2 GB layout). Every activation has its own empty
 * buffer, so "buffer != 0" alone does not mean "constant".
 */
final class Buffers {
  private static final int DATA = 0;
  private static final int OFFSET = 1;
  private static final int SIZE = 2;

  private final FlatBuffer fb;
  private final List<Table> buffers;

  Buffers(FlatBuffer fb, List<Table> buffers) {
    this.fb = fb;
    this.buffers = buffers;
  }

  int count() { return buffers.size(); }

  /** The constant bytes of buffer {@code index}, or null when the tensor is not a constant. */
  byte[] data(long index, String tensor) throws ModelFormatException {
    if (index == 0) return null;
    if (index >= buffers.size()) {
      throw fb.corrupt(tensor + " refers to buffer " + index + ", but the model has only " + buffers.size() + " buffers");
    }
    Table buffer = buffers.get((int) index);
    byte[] inline = buffer.bytes(DATA, "data");
    if (inline != null && inline.length > 0) return inline;
    long offset = buffer.int64(OFFSET, "offset");
    // uint64 fields: a negative long is a value >= 2^63, certainly past the end.
    if (offset > 1 || offset < 0) {
      long size = buffer.int64(SIZE, "size");
      if (offset < 0 || size < 0 || offset + size > fb.size()) {
        throw fb.corrupt("buffer " + index + " of " + tensor + " points to " + Long.toUnsignedString(size)
            + " bytes at offset " + Long.toUnsignedString(offset) + " (appended-buffer layout), past the end of the file ("
            + fb.size() + " bytes)");
      }
      return fb.bytes(offset, size, "Buffer.offset data");
    }
    return null;
  }
}
