package dev.kiln.rpc;

import java.util.Arrays;

/**
 * The wire form of a DLTensor (32 + 8 * ndim bytes): remote data pointer, device, dtype, shape and
 * byte offset. Strides are never sent (compact row-major only). Immutable.
 */
public record TensorRecord(long data, Device device, DataType dtype, long[] shape, long byteOffset) {
  public TensorRecord {
    shape = shape.clone();
    for (long d : shape) if (d < 0) throw new IllegalArgumentException("shape has a negative dimension: " + Arrays.toString(shape));
  }

  @Override public long[] shape() { return shape.clone(); }

  public int ndim() { return shape.length; }

  public long numElements() {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return n;
  }

  public long numBytes() { return Math.multiplyExact(numElements(), dtype.bytesPerElement()); }

  public TensorRecord withByteOffset(long offset) { return new TensorRecord(data, device, dtype, shape, offset); }

  /** Size on the wire. */
  int wireSize() { return 32 + 8 * shape.length; }

  @Override public boolean equals(Object o) {
    return o instanceof TensorRecord t && t.data == data && t.device.equals(device) && t.dtype.equals(dtype)
        && Arrays.equals(t.shape, shape) && t.byteOffset == byteOffset;
  }

  @Override public int hashCode() { return Long.hashCode(data) * 31 + Arrays.hashCode(shape); }

  @Override public String toString() {
    return "DLTensor{data 0x" + Long.toHexString(data) + ", " + device + ", " + dtype + Arrays.toString(shape)
        + (byteOffset != 0 ? ", offset " + byteOffset : "") + "}";
  }
}
