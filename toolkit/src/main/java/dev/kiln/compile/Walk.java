package dev.kiln.compile;

import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a data-movement op reads its input: output element {@code (i0, .., ik)}, written in order, is
 * input element {@code offset + i0*step[0] + .. + ik*step[k]} (steps in elements, negative for a
 * reversed axis, 0 for a broadcast one). SLICE, STRIDED_SLICE, REVERSE_V2, TILE, BROADCAST_TO, SPLIT
 * and UNPACK are each one walk (or one per output); the device kernel and the constant folder both
 * run it, so a folded op and a device op compute the same thing.
 */
public record Walk(int[] shape, long offset, long[] step) {
  /** The most axes the device kernel loops over after {@link #simplified()}. */
  public static final int RANK = 6;

  public Walk {
    shape = shape.clone();
    step = step.clone();
    if (shape.length != step.length) throw new IllegalArgumentException("shape and step lengths differ");
  }

  @Override public int[] shape() { return shape.clone(); }

  @Override public long[] step() { return step.clone(); }

  /** Row-major element strides of a contiguous tensor. */
  public static long[] strides(int[] shape) {
    long[] s = new long[shape.length];
    long acc = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= shape[d];
    }
    return s;
  }

  public long elements() { return Shape.elements(shape); }

  /** The same walk without size-1 axes and with neighbouring axes merged where the steps allow. */
  public Walk simplified() {
    List<long[]> dims = new ArrayList<>();
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] == 1) continue;
      long[] last = dims.isEmpty() ? null : dims.get(dims.size() - 1);
      if (last != null && last[1] == step[d] * shape[d]) {
        last[0] *= shape[d];
        last[1] = step[d];
      } else {
        dims.add(new long[] {shape[d], step[d]});
      }
    }
    int[] sh = new int[dims.size()];
    long[] st = new long[dims.size()];
    for (int i = 0; i < sh.length; i++) {
      sh[i] = Math.toIntExact(dims.get(i)[0]);
      st[i] = dims.get(i)[1];
    }
    return new Walk(sh, offset, st);
  }

  /** True if the walk reads {@code elements()} consecutive input elements: a plain copy. */
  public boolean isContiguous() {
    Walk s = simplified();
    return s.shape.length == 0 || s.shape.length == 1 && s.step[0] == 1;
  }

  /**
   * Checks that every element the walk reads lies in an input of {@code inputElements} elements.
   *
   * @throws IllegalArgumentException naming the elements read, when a model's shapes and index operands disagree
   */
  public void requireWithin(long inputElements) {
    if (elements() == 0) return;
    long lo = offset, hi = offset;
    for (int d = 0; d < shape.length; d++) {
      long span = step[d] * (shape[d] - 1);
      if (span < 0) lo += span;
      else hi += span;
    }
    if (lo < 0 || hi >= inputElements) {
      throw new IllegalArgumentException("the copy reads input elements " + lo + ".." + hi + " of an input with " + inputElements);
    }
  }

  /**
   * Runs the walk on bytes: {@code out} gets {@code elements()} elements of {@code elementBytes} each.
   *
   * @throws IllegalArgumentException if the walk reads outside {@code in} or writes past {@code out} (a model whose
   *     shapes and index operands disagree), before anything is copied
   */
  public void copy(byte[] in, byte[] out, int outOffsetBytes, int elementBytes) {
    long n = elements();
    if (n == 0) return;
    requireWithin(in.length / elementBytes);
    if (outOffsetBytes < 0 || outOffsetBytes + n * elementBytes > out.length) {
      throw new IllegalArgumentException("the walk writes " + n + " elements past the output's " + out.length + " bytes");
    }
    int r = shape.length;
    int[] idx = new int[r];
    long src = offset;
    int dst = outOffsetBytes;
    for (long k = 0; k < n; k++) {
      System.arraycopy(in, Math.toIntExact(src * elementBytes), out, dst, elementBytes);
      dst += elementBytes;
      for (int d = r - 1; d >= 0; d--) {
        src += step[d];
        if (++idx[d] < shape[d]) break;
        src -= step[d] * shape[d];
        idx[d] = 0;
      }
    }
  }

  @Override public String toString() {
    return "Walk[shape=" + Arrays.toString(shape) + ", offset=" + offset + ", step=" + Arrays.toString(step) + "]";
  }
}
