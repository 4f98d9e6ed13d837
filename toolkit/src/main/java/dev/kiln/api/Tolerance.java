package dev.kiln.api;

import dev.kiln.ir.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * When an output matches its reference. {@link #mismatch(Tensor, Tensor)} is the project's rule:
 * integers bit-exact; float32 within 1e-5 * (|ref| + max|ref|). As a value, a tolerance is that rule
 * ({@link #project()}) or a looser one you give ({@link #absolute(double)}, {@link #steps(long)}),
 * used by {@code Kiln.compare(...).tolerance(t)} and {@link #check(Tensor, Tensor)}. Immutable.
 *
 * <pre>{@code
 * Tolerance.mismatch(out, ref)                 // null when equal under the project's rule, else a sentence
 * Tolerance.absolute(1e-3).check(out, ref)     // |out - ref| <= 1e-3 everywhere (floats; integers exact)
 * Tolerance.steps(1).check(q8out, q8ref)       // int8 within one quantization step
 * out.equals(ref)                              // Tensor.equals: same dtype, shape and every byte
 * }</pre>
 */
public final class Tolerance {
  private static final Tolerance PROJECT = new Tolerance(-1, 0, "project rule: integers exact, float32 |a-b| <= 1e-5*(|ref|+max|ref|)");

  /** Float absolute bound, or -1 for the project's relative rule. */
  private final double absolute;
  /** Integer values may differ by this many steps. */
  private final long steps;
  private final String description;

  private Tolerance(double absolute, long steps, String description) {
    this.absolute = absolute;
    this.steps = steps;
    this.description = description;
  }

  /** The project's rule: integers bit-exact, float32 within 1e-5 * (|ref| + max|ref|). */
  public static Tolerance project() { return PROJECT; }

  /** Bit-exact for every dtype (float32 too). */
  public static Tolerance exact() { return new Tolerance(0, 0, "exact: every value equal"); }

  /** float32 within {@code bound} of the reference everywhere; integers exact. */
  public static Tolerance absolute(double bound) {
    if (!(bound >= 0) || Double.isInfinite(bound)) throw new KilnException("Tolerance.absolute(bound): bound must be 0 or more and finite, not " + bound);
    return new Tolerance(bound, 0, "float32 |a-b| <= " + bound + ", integers exact");
  }

  /** Integer outputs (int8 and others) within {@code n} steps of the reference; float32 by the project's rule. */
  public static Tolerance steps(long n) {
    if (n < 0) throw new KilnException("Tolerance.steps(n): n is the number of quantization steps allowed, 0 or more, not " + n);
    return new Tolerance(-1, n, "integers within " + n + " step" + (n == 1 ? "" : "s") + ", float32 by the project rule");
  }

  /** Null if {@code got} matches {@code ref} under this tolerance, else a sentence saying where and by how much it differs. */
  public String check(Tensor got, Tensor ref) {
    Args.notNull(got, "got", "Tolerance.check(got, ref)", "the tensor to check");
    Args.notNull(ref, "ref", "Tolerance.check(got, ref)", "the reference tensor");
    if (this == PROJECT) return mismatch(got, ref);
    if (got.elements() != ref.elements()) return "size " + got.elements() + " != " + ref.elements();
    if (got.dtype() != ref.dtype()) return "dtype " + got.dtype() + " != " + ref.dtype();
    if (ref.dtype() == DType.FLOAT32 && absolute < 0) return mismatch(got, ref);
    int n = (int) ref.elements();
    int bad = 0;
    int first = -1;
    double worst = 0;
    double bound = ref.dtype() == DType.FLOAT32 ? absolute : steps;
    double[] a = values(got);
    double[] r = values(ref);
    for (int i = 0; i < n; i++) {
      double d = Math.abs(a[i] - r[i]);
      worst = Math.max(worst, d);
      if (!(d <= bound)) {
        if (first < 0) first = i;
        bad++;
      }
    }
    return bad == 0 ? null : String.format(Locale.ROOT, "%d of %d values outside %s, first at %d (got %s, want %s), max |diff| %s",
        bad, n, description, first, format(a[first]), format(r[first]), format(worst));
  }

  /** True when {@link #check} finds nothing. */
  public boolean matches(Tensor got, Tensor ref) { return check(got, ref) == null; }

  /** Every element of {@code t} as a double (exact for every integer dtype up to 2^53). */
  static double[] values(Tensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[(int) t.elements()];
    for (int i = 0; i < out.length; i++) out[i] = t.dtype() == DType.FLOAT32 ? b.getFloat(i * 4) : value(b, t.dtype(), i);
    return out;
  }

  private static String format(double v) { return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v); }

  @Override public String toString() { return description; }

  @Override public boolean equals(Object o) { return o instanceof Tolerance t && t.absolute == absolute && t.steps == steps && t.description.equals(description); }

  @Override public int hashCode() { return description.hashCode(); }

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
