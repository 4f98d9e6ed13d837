package dev.kiln.ir;

import java.util.Locale;

/** Element types Kiln can compile. Names follow numpy so {@code .npy} files and displays agree. */
public enum DType {
  FLOAT32(4, "float", "<f4"),
  INT8(1, "int8_t", "|i1"),
  UINT8(1, "uint8_t", "|u1"),
  INT16(2, "int16_t", "<i2"),
  INT32(4, "int32_t", "<i4"),
  INT64(8, "int64_t", "<i8"),
  BOOL(1, "uint8_t", "|b1");

  private final int byteSize;
  private final String cType;
  private final String npyDescr;

  DType(int byteSize, String cType, String npyDescr) {
    this.byteSize = byteSize;
    this.cType = cType;
    this.npyDescr = npyDescr;
  }

  public int byteSize() { return byteSize; }

  /** The C99 type of one element, e.g. {@code int8_t}. */
  public String cType() { return cType; }

  /** The numpy dtype string of an {@code .npy} header, e.g. {@code <f4}. */
  public String npyDescr() { return npyDescr; }

  /** The numpy name, e.g. {@code float32}, {@code int8}. */
  public String numpyName() { return this == BOOL ? "bool" : name().toLowerCase(Locale.ROOT); }

  public boolean isFloat() { return this == FLOAT32; }

  public static DType fromNpyDescr(String descr) {
    for (DType t : values()) {
      if (t.npyDescr.equals(descr) || t.npyDescr.substring(1).equals(descr.substring(1)) && descr.charAt(0) != '>') {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported .npy dtype '" + descr + "' (supported: float32, int8, uint8, int16, int32, int64, bool; little-endian)");
  }

  @Override public String toString() { return numpyName(); }
}
