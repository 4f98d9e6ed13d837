package dev.kiln.frontend.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A compile-time tensor in ONNX's logical layout (row-major, little-endian bytes): an initializer, a
 * Constant node's value or a folded node's result. A constant folded from {@code
 * DequantizeLinear(q)} keeps {@link #quantized()} so integer kernels can use the integer codes.
 */
final class Constant {
  private final int[] shape;
  private final DType dtype;
  private final byte[] data;
  private final Quantized quantized;

  /** The integer codes behind a dequantized constant: {@code value = scale[c] * (code - zeroPoint[c])} along {@code axis}. */
  record Quantized(Constant codes, float[] scales, long[] zeroPoints, int axis) {
    boolean perTensor() { return scales.length == 1; }
  }

  Constant(int[] shape, DType dtype, byte[] data, Quantized quantized) {
    this.shape = shape.clone();
    this.dtype = dtype;
    this.data = data;
    this.quantized = quantized;
    if ((long) data.length != Shape.elements(shape) * dtype.byteSize()) {
      throw new IllegalArgumentException("constant of shape " + Shape.toString(shape) + " " + dtype + " has " + data.length + " bytes");
    }
  }

  Constant(int[] shape, DType dtype, byte[] data) { this(shape, dtype, data, null); }

  static Constant ofFloats(int[] shape, float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) b.putFloat(x);
    return new Constant(shape, DType.FLOAT32, b.array());
  }

  /** Integers of {@code dtype} (INT8, UINT8, INT16, INT32, INT64, BOOL), truncated to its width. */
  static Constant ofLongs(int[] shape, DType dtype, long[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      switch (dtype) {
        case INT8, UINT8, BOOL -> b.put((byte) x);
        case INT16 -> b.putShort((short) x);
        case INT32 -> b.putInt((int) x);
        case INT64 -> b.putLong(x);
        default -> throw new IllegalArgumentException(dtype.toString());
      }
    }
    return new Constant(shape, dtype, b.array());
  }

  int[] shape() { return shape.clone(); }

  int rank() { return shape.length; }

  DType dtype() { return dtype; }

  long elements() { return Shape.elements(shape); }

  /** The bytes (not copied: callers must not modify them). */
  byte[] bytes() { return data; }

  Quantized quantized() { return quantized; }

  Constant withQuantized(Quantized q) { return new Constant(shape, dtype, data, q); }

  Constant reshape(int[] newShape) { return new Constant(newShape, dtype, data, null); }

  /** Every element as float (integers converted). */
  float[] floats() {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) elements();
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = dtype == DType.FLOAT32 ? b.getFloat(i * 4) : (float) longAt(b, i);
    return v;
  }

  /** Every element as long; floats are truncated toward zero. */
  long[] longs() {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) elements();
    long[] v = new long[n];
    for (int i = 0; i < n; i++) v[i] = dtype == DType.FLOAT32 ? (long) b.getFloat(i * 4) : longAt(b, i);
    return v;
  }

  private long longAt(ByteBuffer b, int i) {
    return switch (dtype) {
      case INT8 -> b.get(i);
      case UINT8, BOOL -> b.get(i) & 0xff;
      case INT16 -> b.getShort(i * 2);
      case INT32 -> b.getInt(i * 4);
      case INT64 -> b.getLong(i * 8);
      case FLOAT32 -> (long) b.getFloat(i * 4);
    };
  }

  /** {@code numpy.transpose(this, perm)}: output axis i is axis perm[i]. */
  Constant transpose(int[] perm) {
    int r = shape.length;
    int[] out = new int[r];
    for (int i = 0; i < r; i++) out[i] = shape[perm[i]];
    long[] inStride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      inStride[d] = s;
      s *= shape[d];
    }
    int e = dtype.byteSize();
    byte[] result = new byte[data.length];
    int n = (int) elements();
    int[] idx = new int[r];
    for (int k = 0; k < n; k++) {
      long src = 0;
      for (int i = 0; i < r; i++) src += idx[i] * inStride[perm[i]];
      System.arraycopy(data, (int) src * e, result, k * e, e);
      for (int i = r - 1; i >= 0; i--) {
        if (++idx[i] < out[i]) break;
        idx[i] = 0;
      }
    }
    return new Constant(out, dtype, result);
  }

  @Override public String toString() { return Shape.toString(shape) + " " + dtype; }
}
