package dev.kiln.cli;

import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/** Short value previews for terminal output. */
final class Values {
  private static final int MAX = 12;

  private Values() {}

  static String preview(Tensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) Math.min(t.elements(), MAX);
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      if (i > 0) sb.append(' ');
      sb.append(switch (t.dtype()) {
        case FLOAT32 -> String.format(Locale.ROOT, "%.6g", b.getFloat(i * 4));
        case INT8 -> Byte.toString(b.get(i));
        case UINT8, BOOL -> Integer.toString(b.get(i) & 0xff);
        case INT16 -> Short.toString(b.getShort(i * 2));
        case INT32 -> Integer.toString(b.getInt(i * 4));
        case INT64 -> Long.toString(b.getLong(i * 8));
      });
    }
    if (t.elements() > MAX) sb.append(" ... (").append(t.elements()).append(" values)");
    return sb.append("]").append(t.dtype() == DType.FLOAT32 ? "" : " " + t.dtype()).toString();
  }
}
