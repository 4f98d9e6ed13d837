package dev.kiln.rpc;

import java.util.Locale;

/** A DLPack DLDataType: type code (0 int, 1 uint, 2 float, 4 bfloat, 6 bool), bits, lanes. */
public record DataType(int code, int bits, int lanes) {
  public static final DataType INT8 = new DataType(0, 8, 1);
  public static final DataType UINT8 = new DataType(1, 8, 1);
  public static final DataType INT32 = new DataType(0, 32, 1);
  public static final DataType INT64 = new DataType(0, 64, 1);
  public static final DataType FLOAT32 = new DataType(2, 32, 1);
  public static final DataType FLOAT64 = new DataType(2, 64, 1);

  public DataType {
    if (code < 0 || code > 255) throw new IllegalArgumentException("code out of 0..255: " + code);
    if (bits < 1 || bits > 255) throw new IllegalArgumentException("bits out of 1..255: " + bits);
    if (lanes < 1 || lanes > 65535) throw new IllegalArgumentException("lanes out of 1..65535: " + lanes);
  }

  /** Parses "float32", "int8", "uint8", "int32x4", "bool". */
  public static DataType parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.equals("bool")) return new DataType(6, 8, 1);
    int lanes = 1;
    int x = t.indexOf('x');
    if (x > 0) {
      lanes = Integer.parseInt(t.substring(x + 1));
      t = t.substring(0, x);
    }
    String[][] prefixes = {{"uint", "1"}, {"int", "0"}, {"float", "2"}, {"bfloat", "4"}};
    for (String[] p : prefixes) {
      if (t.startsWith(p[0]) && t.length() > p[0].length() && Character.isDigit(t.charAt(p[0].length()))) {
        return new DataType(Integer.parseInt(p[1]), Integer.parseInt(t.substring(p[0].length())), lanes);
      }
    }
    throw new IllegalArgumentException("not a data type: '" + s + "'; expected e.g. int8, uint8, int32, float32, bool");
  }

  /** Bytes per element: ceil(bits * lanes / 8). */
  public int bytesPerElement() { return (bits * lanes + 7) / 8; }

  @Override public String toString() {
    String base = switch (code) {
      case 0 -> "int";
      case 1 -> "uint";
      case 2 -> "float";
      case 4 -> "bfloat";
      case 6 -> "bool";
      default -> "code" + code + "_";
    };
    if (code == 6) return "bool";
    return base + bits + (lanes > 1 ? "x" + lanes : "");
  }
}
