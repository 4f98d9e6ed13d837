package dev.kiln.rpc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Writes RPC packets: a growable little-endian buffer that starts with a placeholder for the u64
 * packet length, filled in by {@link #finish()}. Not thread-safe.
 */
final class PacketWriter {
  private byte[] buf;
  private int size;

  PacketWriter(int capacity) {
    buf = new byte[Math.max(16, capacity + 8)];
    size = 8;
  }

  private void ensure(int more) {
    if (size + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
  }

  PacketWriter u8(int v) {
    ensure(1);
    buf[size++] = (byte) v;
    return this;
  }

  PacketWriter i32(int v) {
    ensure(4);
    for (int i = 0; i < 4; i++) buf[size++] = (byte) (v >>> (8 * i));
    return this;
  }

  PacketWriter u64(long v) {
    ensure(8);
    for (int i = 0; i < 8; i++) buf[size++] = (byte) (v >>> (8 * i));
    return this;
  }

  PacketWriter bytes(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, buf, size, len);
    size += len;
    return this;
  }

  PacketWriter dtype(DataType t) {
    return u8(t.code()).u8(t.bits()).u8(t.lanes()).u8(t.lanes() >>> 8);
  }

  PacketWriter device(Device d) { return i32(d.type()).i32(d.id()); }

  PacketWriter tensor(TensorRecord t) {
    u64(t.data()).device(t.device()).i32(t.ndim()).dtype(t.dtype());
    for (long d : t.shape()) u64(d);
    return u64(t.byteOffset());
  }

  /** A packed sequence: count, all type codes, then the payloads. */
  PacketWriter args(List<Value> args) {
    i32(args.size());
    for (Value v : args) i32(v.code());
    for (Value v : args) value(v);
    return this;
  }

  PacketWriter value(Value v) {
    Object o = v.value();
    switch (v.code()) {
      case TypeCode.NULLPTR -> { }
      case TypeCode.FLOAT -> u64(Double.doubleToRawLongBits((Double) o));
      case TypeCode.DATA_TYPE -> dtype((DataType) o).i32(0);
      case TypeCode.DEVICE -> device((Device) o);
      case TypeCode.DLTENSOR_HANDLE -> tensor((TensorRecord) o);
      case TypeCode.STR -> {
        byte[] s = ((String) o).getBytes(StandardCharsets.UTF_8);
        u64(s.length).bytes(s, 0, s.length);
      }
      case TypeCode.BYTES -> {
        byte[] b = (byte[]) o;
        u64(b.length).bytes(b, 0, b.length);
      }
      default -> u64(v.asLong());
    }
    return this;
  }

  int size() { return size; }

  /** Empties the writer for the next packet, keeping its buffer. */
  PacketWriter reset() {
    size = 8;
    return this;
  }

  /**
   * Fills in the u64 length for a packet of what was written plus {@code more} bytes the caller
   * sends after it, and returns the buffer (valid bytes: {@link #size()}), without a copy.
   */
  byte[] sealFor(int more) {
    long body = size - 8 + (long) more;
    for (int i = 0; i < 8; i++) buf[i] = (byte) (body >>> (8 * i));
    return buf;
  }

  /** The packet: u64 body length, then the body. */
  byte[] finish() {
    long body = size - 8;
    for (int i = 0; i < 8; i++) buf[i] = (byte) (body >>> (8 * i));
    return Arrays.copyOf(buf, size);
  }
}
