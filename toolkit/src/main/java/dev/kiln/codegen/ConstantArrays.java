package dev.kiln.codegen;

import dev.kiln.ir.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Renders constant tensor bytes as a C initializer list in the tensor's own element type. */
final class ConstantArrays {
  private static final int PER_LINE = 16;

  private ConstantArrays() {}

  static void write(CodeWriter out, String declaration, DType dtype, byte[] data) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int n = data.length / dtype.byteSize();
    if (n == 0) {
      // C99 has no empty arrays; one unused element keeps the symbol.
      out.line(declaration + "[1] = {0};");
      return;
    }
    out.line(declaration + "[" + n + "] = {");
    StringBuilder line = new StringBuilder("  ");
    for (int i = 0; i < n; i++) {
      line.append(element(b, dtype, i));
      if (i + 1 < n) line.append(", ");
      if ((i + 1) % PER_LINE == 0 || i + 1 == n) {
        out.line(line.toString());
        line.setLength(0);
        line.append("  ");
      }
    }
    out.line("};");
  }

  private static String element(ByteBuffer b, DType dtype, int i) {
    return switch (dtype) {
      case FLOAT32 -> CLiterals.f32(b.getFloat(i * 4));
      case INT8 -> Byte.toString(b.get(i));
      case UINT8, BOOL -> Integer.toString(b.get(i) & 0xff);
      case INT16 -> Short.toString(b.getShort(i * 2));
      case INT32 -> CLiterals.i32(b.getInt(i * 4));
      case INT64 -> {
        long v = b.getLong(i * 8);
        yield v == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : v + "LL";
      }
    };
  }
}
