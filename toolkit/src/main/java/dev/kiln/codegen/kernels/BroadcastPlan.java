package dev.kiln.codegen.kernels;

import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The iteration of a broadcasting binary op as the C struct {@code kiln_bcast} wants it: numpy
 * broadcasting of two input shapes onto the output shape, with output dimensions of size 1 dropped
 * and neighbouring dimensions merged when both inputs broadcast alike there, then padded to rank 6
 * with leading 1s. Per dimension each input has an element stride (0 where it is broadcast). Two
 * same-shape inputs become one dimension {@code [count]} with strides 1 and 1: a flat loop.
 */
record BroadcastPlan(int[] shape, int[] stride1, int[] stride2) {
  static final int RANK = 6;

  /**
   * Plans {@code out = a (op) b}; throws IllegalArgumentException with the reason if the shapes
   * do not broadcast to {@code out} or need more than 6 dimensions after merging.
   */
  static BroadcastPlan of(int[] a, int[] b, int[] out) {
    int r = out.length;
    if (a.length > r || b.length > r) {
      throw new IllegalArgumentException("input shapes " + Shape.toString(a) + " and " + Shape.toString(b)
          + " have more dimensions than the output " + Shape.toString(out));
    }
    int[] pa = pad(a, r);
    int[] pb = pad(b, r);
    List<int[]> dims = new ArrayList<>(); // {size, full1, full2}
    for (int d = 0; d < r; d++) {
      if (!fits(pa[d], out[d]) || !fits(pb[d], out[d]) || (Math.max(pa[d], pb[d]) != out[d] && out[d] != 0)) {
        throw new IllegalArgumentException("input shapes " + Shape.toString(a) + " and " + Shape.toString(b)
            + " do not broadcast to the output shape " + Shape.toString(out));
      }
      if (out[d] == 1) continue;
      int f1 = pa[d] == out[d] ? 1 : 0;
      int f2 = pb[d] == out[d] ? 1 : 0;
      int[] last = dims.isEmpty() ? null : dims.get(dims.size() - 1);
      if (last != null && last[1] == f1 && last[2] == f2) {
        last[0] = Math.multiplyExact(last[0], out[d]);
      } else {
        dims.add(new int[] {out[d], f1, f2});
      }
    }
    if (dims.size() > RANK) {
      throw new IllegalArgumentException("broadcasting " + Shape.toString(a) + " with " + Shape.toString(b)
          + " needs " + dims.size() + " dimensions; Kiln (like TFLite) supports at most " + RANK);
    }
    int[] shape = new int[RANK];
    int[] s1 = new int[RANK];
    int[] s2 = new int[RANK];
    Arrays.fill(shape, 1);
    int off = RANK - dims.size();
    long step1 = 1;
    long step2 = 1;
    for (int j = dims.size() - 1; j >= 0; j--) {
      int[] dim = dims.get(j);
      shape[off + j] = dim[0];
      if (dim[1] == 1) {
        s1[off + j] = Math.toIntExact(step1);
        step1 *= dim[0];
      }
      if (dim[2] == 1) {
        s2[off + j] = Math.toIntExact(step2);
        step2 *= dim[0];
      }
    }
    return new BroadcastPlan(shape, s1, s2);
  }

  private static boolean fits(int in, int out) { return in == out || in == 1; }

  private static int[] pad(int[] s, int r) {
    int[] p = new int[r];
    Arrays.fill(p, 1);
    System.arraycopy(s, 0, p, r - s.length, s.length);
    return p;
  }

  /** True if the op is a single flat loop over equally shaped inputs. */
  boolean isFlat() {
    for (int d = 0; d < RANK - 1; d++) if (shape[d] != 1) return false;
    return stride1[RANK - 1] == 1 && stride2[RANK - 1] == 1;
  }

  /** The C initializer of a {@code kiln_bcast}. */
  String initializer() {
    return "{" + list(shape) + ", " + list(stride1) + ", " + list(stride2) + "}";
  }

  private static String list(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    return sb.append('}').toString();
  }
}
