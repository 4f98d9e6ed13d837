package dev.kiln.ir;

import java.util.Arrays;

/**
 * Affine quantization: {@code real = scale * (q - zeroPoint)}. One scale per tensor, or one per
 * slice along {@link #axis()} (per-channel weights).
 */
public final class Quantization {
  public static final Quantization NONE = new Quantization(new float[0], new long[0], 0);

  private final float[] scales;
  private final long[] zeroPoints;
  private final int axis;

  private Quantization(float[] scales, long[] zeroPoints, int axis) {
    this.scales = scales;
    this.zeroPoints = zeroPoints;
    this.axis = axis;
  }

  public static Quantization perTensor(float scale, long zeroPoint) {
    return new Quantization(new float[] {scale}, new long[] {zeroPoint}, 0);
  }

  public static Quantization perAxis(float[] scales, long[] zeroPoints, int axis) {
    if (scales.length != zeroPoints.length) {
      throw new IllegalArgumentException("scales.length != zeroPoints.length: " + scales.length + " != " + zeroPoints.length);
    }
    if (scales.length == 0) return NONE;
    return new Quantization(scales.clone(), zeroPoints.clone(), axis);
  }

  public boolean isQuantized() { return scales.length > 0; }

  public boolean isPerChannel() { return scales.length > 1; }

  public int count() { return scales.length; }

  /** The per-tensor scale (or the first per-channel one). */
  public float scale() { requireQuantized(); return scales[0]; }

  public int zeroPoint() { requireQuantized(); return (int) zeroPoints[0]; }

  public float scale(int channel) { return scales[scales.length == 1 ? 0 : channel]; }

  public int zeroPoint(int channel) { return (int) zeroPoints[zeroPoints.length == 1 ? 0 : channel]; }

  public float[] scales() { return scales.clone(); }

  public long[] zeroPoints() { return zeroPoints.clone(); }

  public int axis() { return axis; }

  private void requireQuantized() {
    if (!isQuantized()) throw new IllegalStateException("tensor is not quantized");
  }

  @Override public boolean equals(Object o) {
    return o instanceof Quantization q && q.axis == axis && Arrays.equals(q.scales, scales) && Arrays.equals(q.zeroPoints, zeroPoints);
  }

  @Override public int hashCode() { return Arrays.hashCode(scales) * 31 + Arrays.hashCode(zeroPoints); }

  @Override public String toString() {
    if (!isQuantized()) return "none";
    if (!isPerChannel()) return "scale=" + scales[0] + " zero_point=" + zeroPoints[0];
    return "per-channel(axis=" + axis + ", " + scales.length + " scales)";
  }
}
