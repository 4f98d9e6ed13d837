package dev.kiln.frontend.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import java.util.Arrays;

/**
 * An ONNX value during lowering: its logical (ONNX, NCHW) shape and dtype, and how it exists in
 * the ir graph. One of three kinds:
 * <ul>
 *   <li>a compile-time {@link Constant} (no ir tensor until an op needs one, in the layout it needs);</li>
 *   <li>an ir tensor {@link #phys} whose bytes hold the value in a permuted order: the logical value
 *       is {@code reshape(transpose(phys, perm), shape)} ({@code perm} null = phys already is the
 *       value, up to a reshape). Convolutions leave NHWC tensors ({@code perm = [0,3,1,2]}); Transpose,
 *       Reshape and Flatten only rewrite {@code perm} and {@code shape}, so layout changes cost nothing
 *       until an op needs another order;</li>
 *   <li>{@code DequantizeLinear} of an int8 tensor value ({@link #source}), kept lazy so that
 *       quantized operators can consume the integer codes; materialized as DEQUANTIZE only for
 *       float consumers.</li>
 * </ul>
 */
final class Value {
  /** An ir tensor being built: its index in the Graph.Builder and its properties. */
  record TensorRef(int index, String name, int[] shape, DType dtype, Quantization quantization) {
    long elements() { return Shape.elements(shape); }
  }

  final String name;
  final DType dtype;
  final int[] shape;
  final Constant constant;
  final TensorRef phys;
  final int[] perm;
  final Value source;
  /** A TENSOR int8 value that stands for ONNX uint8 codes (stored as code - 128, zero point - 128). */
  final boolean uint8;

  private Value(String name, DType dtype, int[] shape, Constant constant, TensorRef phys, int[] perm, Value source, boolean uint8) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.constant = constant;
    this.phys = phys;
    this.perm = perm == null ? null : perm.clone();
    this.source = source;
    this.uint8 = uint8;
  }

  static Value constant(String name, Constant c) {
    return new Value(name, c.dtype(), c.shape(), c, null, null, null, false);
  }

  /** A tensor holding the value in logical order (up to a reshape to {@code shape}). */
  static Value tensor(String name, TensorRef t, int[] shape) {
    return new Value(name, t.dtype(), shape, null, t, null, null, false);
  }

  /** A tensor holding {@code transpose(logical, inverse(perm))}, i.e. logical = reshape(transpose(t, perm), shape). */
  static Value permuted(String name, TensorRef t, int[] perm, int[] shape) {
    return new Value(name, t.dtype(), shape, null, t, isIdentity(perm) ? null : perm, null, false);
  }

  /** {@code DequantizeLinear(source)}, with the source tensor's quantization. */
  static Value dequantized(String name, Value source) {
    return new Value(name, DType.FLOAT32, source.shape, null, null, null, source, false);
  }

  Value asUint8(boolean u) { return new Value(name, dtype, shape, constant, phys, perm, source, u); }

  Value renamed(String newName) { return new Value(newName, dtype, shape, constant, phys, perm, source, uint8); }

  /** The same bytes seen with another logical shape (same element count): Reshape, Flatten, Squeeze. */
  Value reshaped(String newName, int[] newShape) {
    if (constant != null) return constant(newName, constant.reshape(newShape));
    if (source != null) return dequantized(newName, source.reshaped(source.name, newShape));
    return new Value(newName, dtype, newShape, null, phys, perm, null, uint8);
  }

  boolean isConstant() { return constant != null; }

  boolean isDequantized() { return source != null; }

  int rank() { return shape.length; }

  long elements() { return Shape.elements(shape); }

  /** The shape of transpose(phys, perm) before the final reshape. */
  int[] preShape() {
    return perm == null ? phys.shape() : permute(phys.shape(), perm);
  }

  /** True if the logical value is transpose(phys, perm) exactly (no reshape on top). */
  boolean isPlainPermutation() { return Arrays.equals(preShape(), shape); }

  static int[] permute(int[] shape, int[] perm) {
    int[] out = new int[perm.length];
    for (int i = 0; i < perm.length; i++) out[i] = shape[perm[i]];
    return out;
  }

  /** {@code a} then {@code b}: transpose(transpose(x, a), b) = transpose(x, compose(a, b)). */
  static int[] compose(int[] a, int[] b) {
    int[] c = new int[b.length];
    for (int i = 0; i < b.length; i++) c[i] = a == null ? b[i] : a[b[i]];
    return c;
  }

  static int[] inverse(int[] p) {
    int[] inv = new int[p.length];
    for (int i = 0; i < p.length; i++) inv[p[i]] = i;
    return inv;
  }

  static int[] identity(int rank) {
    int[] p = new int[rank];
    for (int i = 0; i < rank; i++) p[i] = i;
    return p;
  }

  static boolean isIdentity(int[] p) {
    if (p == null) return true;
    for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
    return true;
  }

  /** True if transposing {@code shape} by {@code p} keeps the element order (only axes of size 1 move). */
  static boolean keepsOrder(int[] shape, int[] p) {
    int last = -1;
    for (int axis : p) {
      if (shape[axis] == 1) continue;
      if (axis < last) return false;
      last = axis;
    }
    return true;
  }

  @Override public String toString() {
    String kind = constant != null ? "constant" : source != null ? "dequantized(" + source + ")"
        : phys.name() + (perm == null ? "" : " perm " + Arrays.toString(perm));
    return "'" + name + "' " + Shape.toString(shape) + " " + dtype + " = " + kind;
  }
}
