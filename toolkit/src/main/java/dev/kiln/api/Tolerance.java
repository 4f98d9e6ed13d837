package dev.kiln.api;

import dev.kiln.ir.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/** The project's correctness rule: integers bit-exact; float32 within 1e-5 * (|ref| + max|ref|). */
public final class Tolerance {
  private Tolerance() {}

  /** Null if {@code got} matches {@code ref}, else a sentence saying where and by how much it differs. */
  public static String mismatch(Tensor got, Tensor ref) {
    Args.notNull(got, "got", "Tolerance.mismatch(got, ref)", "the tensor to check");
    Args.notNull(ref, "ref", "Tolerance.mismatch(got, ref)", "the reference tensor");
    if (got.elements() != ref.elements()) return "size " + got.elements() + " != " + ref.elements();
    if (got.dtype() != ref.dtype()) return "dtype " + got.dtype() + " != " + ref.dtype();
    if (ref.dtype() == DType.FLOAT32) {
      float[] a = got.toFloatArray();
      float[] r = ref.toFloatArray();
      double maxRef = 0;
      for (float v : r) maxRef = Math.max(maxRef, Math.abs(v));
      int bad = 0;
      int first = -1;
      double worst = 0;
      for (int i = 0; i < r.length; i++) {
        double d = Math.abs((double) a[i] - r[i]);
        worst = Math.max(worst, d);
        if (!(d <= 1e-5 * (Math.abs(r[i]) + maxRef))) {
          if (first < 0) first = i;
          bad++;
        }
      }
      return bad == 0 ? null : String.format(Locale.ROOT, "%d of %d floats outside tolerance, first at %d (got %s, want %s), max |diff| %.3g",
          bad, r.length, first, a[first], r[first], worst);
    }
    ByteBuffer a = ByteBuffer.wrap(got.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer r = ByteBuffer.wrap(ref.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) ref.elements();
    int bad = 0;
    int first = -1;
    long worst = 0;
    for (int i = 0; i < n; i++) {
      long x = value(a, ref.dtype(), i);
      long y = value(r, ref.dtype(), i);
      if (x != y) {
        if (first < 0) first = i;
        bad++;
        worst = Math.max(worst, Math.abs(x - y));
      }
    }
    if (bad == 0) return null;
    return String.format(Locale.ROOT, "%d of %d values differ, first at %d (got %d, want %d), max |diff| %d",
        bad, n, first, value(a, ref.dtype(), first), value(r, ref.dtype(), first), worst);
  }

  private static long value(ByteBuffer b, DType t, int i) {
    return switch (t) {
      case INT8 -> b.get(i);
      case UINT8, BOOL -> b.get(i) & 0xff;
      case INT16 -> b.getShort(i * 2);
      case INT32 -> b.getInt(i * 4);
      case INT64 -> b.getLong(i * 8);
      case FLOAT32 -> throw new IllegalArgumentException("float");
    };
  }
}
