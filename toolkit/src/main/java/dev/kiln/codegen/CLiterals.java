package dev.kiln.codegen;

import java.util.Locale;

/** C spellings of values: floats that round-trip exactly, escaped strings. */
public final class CLiterals {
  private CLiterals() {}

  /** A float32 literal that parses back to exactly {@code v} (hex float for exactness). */
  public static String f32(float v) {
    if (Float.isNaN(v)) return "(0.0f/0.0f)";
    if (Float.isInfinite(v)) return v > 0 ? "(1.0f/0.0f)" : "(-1.0f/0.0f)";
    // +-FLT_MAX as a hex literal: exact, and needs no <float.h> in the file that holds it.
    if (v == Float.MAX_VALUE) return "0x1.fffffep+127f";
    if (v == -Float.MAX_VALUE) return "(-0x1.fffffep+127f)";
    String s = Float.toString(v);
    if (Float.parseFloat(s) != v) s = Float.toHexString(v);
    return s.replace("E", "e") + "f";
  }

  /** An int32 literal; INT32_MIN is spelled so C does not read it as a negated long. */
  public static String i32(int v) {
    return v == Integer.MIN_VALUE ? "(-2147483647 - 1)" : Integer.toString(v);
  }

  /** A C string literal with everything outside printable ASCII escaped. */
  public static String string(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c == '"' || c == '\\') sb.append('\\').append((char) c);
      else if (c >= 32 && c < 127 && c != '?') sb.append((char) c);
      else sb.append(String.format(Locale.ROOT, "\\%03o", c));
    }
    return sb.append('"').toString();
  }
}
