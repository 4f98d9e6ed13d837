package dev.kiln.rpc;

import dev.kiln.transport.LinkCorruptedException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads an RPC packet; a packet that ends early or holds an unknown code is {@link LinkCorruptedException}. */
final class PacketReader {
  private final byte[] buf;
  private final int end;
  private int pos;

  PacketReader(byte[] buf, int off, int len) {
    this.buf = buf;
    this.pos = off;
    this.end = off + len;
  }

  int remaining() { return end - pos; }

  int position() { return pos; }

  private void need(int n) throws LinkCorruptedException {
    if (end - pos < n) {
      throw new LinkCorruptedException("reply packet ends early: needs " + n + " more bytes at offset " + pos
          + ", has " + (end - pos));
    }
  }

  int u8() throws LinkCorruptedException {
    need(1);
    return buf[pos++] & 0xFF;
  }

  int i32() throws LinkCorruptedException {
    need(4);
    int v = 0;
    for (int i = 0; i < 4; i++) v |= (buf[pos++] & 0xFF) << (8 * i);
    return v;
  }

  long u64() throws LinkCorruptedException {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) v |= (long) (buf[pos++] & 0xFF) << (8 * i);
    return v;
  }

  byte[] bytes(long n) throws LinkCorruptedException {
    if (n < 0 || n > end - pos) need(n < 0 || n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n);
    byte[] b = new byte[(int) n];
    System.arraycopy(buf, pos, b, 0, (int) n);
    pos += (int) n;
    return b;
  }

  DataType dtype() throws LinkCorruptedException {
    int code = u8();
    int bits = u8();
    int lanes = u8() | (u8() << 8);
    try {
      return new DataType(code, bits, lanes);
    } catch (IllegalArgumentException e) {
      throw new LinkCorruptedException("reply holds an invalid data type: " + e.getMessage());
    }
  }

  TensorRecord tensor() throws LinkCorruptedException {
    long data = u64();
    Device device = new Device(i32(), i32());
    int ndim = i32();
    if (ndim < 0 || ndim > 64) throw new LinkCorruptedException("reply holds a tensor with ndim " + ndim);
    DataType dtype = dtype();
    long[] shape = new long[ndim];
    for (int i = 0; i < ndim; i++) shape[i] = u64();
    long offset = u64();
    try {
      return new TensorRecord(data, device, dtype, shape, offset);
    } catch (IllegalArgumentException e) {
      throw new LinkCorruptedException("reply holds an invalid tensor: " + e.getMessage());
    }
  }

  List<Value> args() throws LinkCorruptedException {
    int n = i32();
    if (n < 0 || n > 1024) throw new LinkCorruptedException("reply holds " + n + " values");
    int[] codes = new int[n];
    for (int i = 0; i < n; i++) codes[i] = i32();
    List<Value> values = new ArrayList<>(n);
    for (int code : codes) values.add(value(code));
    return values;
  }

  Value value(int code) throws LinkCorruptedException {
    return switch (code) {
      case TypeCode.INT, TypeCode.UINT, TypeCode.OPAQUE_HANDLE, TypeCode.MODULE_HANDLE,
          TypeCode.PACKED_FUNC_HANDLE, TypeCode.OBJECT_HANDLE -> new Value(code, u64());
      case TypeCode.BOOL -> new Value(code, u64() != 0);
      case TypeCode.FLOAT -> new Value(code, Double.longBitsToDouble(u64()));
      case TypeCode.NULLPTR -> new Value(code, null);
      case TypeCode.DATA_TYPE -> {
        DataType t = dtype();
        i32();
        yield new Value(code, t);
      }
      case TypeCode.DEVICE -> new Value(code, new Device(i32(), i32()));
      case TypeCode.DLTENSOR_HANDLE -> new Value(code, tensor());
      case TypeCode.STR -> new Value(code, new String(bytes(u64()), StandardCharsets.UTF_8));
      case TypeCode.BYTES -> new Value(code, bytes(u64()));
      default -> throw new LinkCorruptedException("reply holds a value of unknown type code " + code);
    };
  }
}
