package dev.kiln.rpc;

import java.io.IOException;
import java.util.Arrays;

/**
 * An array whose bytes live on the device: allocated by {@link RpcClient#empty} (freed with
 * DevFreeData), or returned by a function as an NDArray (released with FreeHandle(handle, 13)).
 * Copies go in chunks that fit the device's packet size. Close it when done; closing twice is safe.
 */
public final class RemoteNDArray implements AutoCloseable {
  enum Owner { ALLOCATED, NDARRAY, VIEW }

  private final RpcClient client;
  private final TensorRecord record;
  private final long ndHandle;
  private final Owner owner;
  private boolean closed;

  RemoteNDArray(RpcClient client, TensorRecord record, long ndHandle, Owner owner) {
    this.client = client;
    this.record = record;
    this.ndHandle = ndHandle;
    this.owner = owner;
  }

  public long[] shape() { return record.shape(); }

  public DataType dtype() { return record.dtype(); }

  public long numBytes() { return record.numBytes(); }

  /** The DLTensor as the device described it (data pointer, shape, dtype, byte offset). */
  public TensorRecord record() { return record; }

  /** The device-side array object (for FreeHandle), 0 for allocations and views. */
  public long ndHandle() { return ndHandle; }

  /** Copies {@code data} (exactly {@link #numBytes()} bytes) to the device. */
  public void copyFrom(byte[] data) throws IOException {
    checkOpen();
    if (data.length != numBytes()) {
      throw new IllegalArgumentException("data.length != numBytes: " + data.length + " != " + numBytes()
          + " (" + record.dtype() + Arrays.toString(record.shape()) + ")");
    }
    client.copyToRemote(record, data);
  }

  /** Copies the array's bytes from the device. */
  public byte[] toByteArray() throws IOException {
    checkOpen();
    return client.copyFromRemote(record);
  }

  /**
   * Copies the array's bytes from the device into {@code out} (exactly {@link #numBytes()} bytes): for
   * repeated reads into one buffer, without a new array to allocate and clear each time.
   */
  public void copyTo(byte[] out) throws IOException {
    checkOpen();
    if (out.length != numBytes()) {
      throw new IllegalArgumentException("out.length != numBytes: " + out.length + " != " + numBytes()
          + " (" + record.dtype() + Arrays.toString(record.shape()) + ")");
    }
    client.copyFromRemote(record, out);
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException(this + " is closed");
  }

  @Override public void close() throws IOException {
    if (closed) return;
    closed = true;
    if (!client.isOpen()) return;
    switch (owner) {
      case ALLOCATED -> client.freeData(record.data());
      case NDARRAY -> client.freeHandle(ndHandle, TypeCode.NDARRAY_HANDLE);
      case VIEW -> { }
    }
  }

  @Override public String toString() {
    return "RemoteNDArray(" + record.dtype() + Arrays.toString(record.shape()) + " at 0x" + Long.toHexString(record.data())
        + ")";
  }
}
