package dev.kiln.rpc;

import java.util.Arrays;

/**
 * One entry of a packed sequence as it travels: a type code and its payload (Long for integers and
 * handles, Double, Boolean, String, byte[], DataType, Device, TensorRecord, or null).
 */
record Value(int code, Object value) {
  static Value ofInt(long v) { return new Value(TypeCode.INT, v); }

  static Value ofHandle(long v) { return new Value(TypeCode.OPAQUE_HANDLE, v); }

  static Value ofStr(String s) { return new Value(TypeCode.STR, s); }

  long asLong() {
    if (value instanceof Long l) return l;
    if (value instanceof Boolean b) return b ? 1 : 0;
    throw new IllegalStateException(TypeCode.name(code) + " value is not an integer: " + value);
  }

  @Override public String toString() {
    Object v = value instanceof byte[] b ? Arrays.toString(b) : value;
    return TypeCode.name(code) + (code == TypeCode.NULLPTR ? "" : " " + v);
  }
}
