package dev.kiln.compile;

import dev.kiln.api.Kiln;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongUnaryOperator;

/**
 * How narrow the per-channel requantization multipliers of a model's int8 CONV_2D and
 * DEPTHWISE_CONV_2D can be and stay bit-exact (issue 12's operator-parameter bytes). For every
 * output channel, over every accumulator + bias the channel can produce (from its constant filter
 * and bias: each tap at the end of [-128, 127] minus the input zero point that makes it largest or
 * smallest) and with the fused clamp, it prints the fewest significant bits of
 * <ul>
 *   <li>"mbqm": TFLite's MultiplyByQuantizedMultiplier (what the kernels compute) with the
 *       multiplier rounded to that many bits, the shift unchanged;</li>
 *   <li>"line": the best straight line, {@link LinearRescale#fit} with a multiplier below 2^bits
 *       and its own shift and offsets (one per sign).</li>
 * </ul>
 * Both are proofs (every step of the reference in place), not samples. Run:
 * {@code java -cp toolkit/target/classes:toolkit/target/test-classes:'toolkit/target/lib/*'
 * dev.kiln.compile.MultiplierBitsReport MODEL...}
 */
public final class MultiplierBitsReport {
  private MultiplierBitsReport() {}

  public static void main(String[] args) {
    for (String a : args) report(Path.of(a));
  }

  static void report(Path model) {
    int[] mbqmAll = new int[33];
    int[] lineAll = new int[33];
    int index = 0;
    System.out.println(model);
    for (Op op : Kiln.load(model).ops()) {
      index++;
      boolean depthwise = op.type() == OpType.DEPTHWISE_CONV_2D;
      if (!depthwise && op.type() != OpType.CONV_2D) continue;
      if (op.input(0).dtype() != DType.INT8 || op.output().dtype() != DType.INT8 || !op.input(1).isConstant()) continue;
      int[] mbqm = new int[33];
      int[] line = new int[33];
      Channels ch = new Channels(op, depthwise);
      for (int c = 0; c < ch.count(); c++) {
        int b = ch.fewestMbqmBits(c);
        int l = ch.fewestLineBits(c);
        mbqm[b]++;
        line[l]++;
        mbqmAll[b]++;
        lineAll[l]++;
      }
      System.out.printf(Locale.ROOT, "  op %3d %-17s %4d channels  mbqm max %2d bits  line max %2d bits  line: %s%n", index - 1,
          op.type(), ch.count(), max(mbqm), max(line), histogram(line));
    }
    System.out.printf(Locale.ROOT, "  all: mbqm max %d bits (%s)%n       line max %d bits (%s)%n", max(mbqmAll), histogram(mbqmAll),
        max(lineAll), histogram(lineAll));
  }

  private static int max(int[] h) {
    for (int b = h.length - 1; b >= 0; b--) if (h[b] > 0) return b;
    return 0;
  }

  private static String histogram(int[] h) {
    StringBuilder s = new StringBuilder();
    for (int b = 0; b < h.length; b++) {
      if (h[b] > 0) s.append(s.length() == 0 ? "" : " ").append(b).append("b:").append(h[b]);
    }
    return s.toString();
  }

  /** One conv's channels: reachable accumulator + bias intervals, multipliers and clamp. */
  private static final class Channels {
    private final long[] lo;
    private final long[] hi;
    private final FixedPoint.Multiplier[] m;
    private final double[] real;
    private final int zeroPoint;
    private final int[] act;

    Channels(Op op, boolean depthwise) {
      Tensor in = op.input(0);
      Tensor filter = op.input(1);
      Tensor bias = op.input(2);
      Tensor out = op.output();
      int outC = out.dim(3);
      Quantization qi = in.quantization();
      Quantization qo = out.quantization();
      Quantization qw = filter.quantization();
      int zi = qi.zeroPoint();
      byte[] w = filter.data();
      int per = w.length / outC;
      lo = new long[outC];
      hi = new long[outC];
      for (int i = 0; i < w.length; i++) {
        int c = depthwise ? i % outC : i / per;
        long a = (long) w[i] * (-128 - zi);
        long b = (long) w[i] * (127 - zi);
        lo[c] += Math.min(a, b);
        hi[c] += Math.max(a, b);
      }
      if (bias != null) {
        ByteBuffer bb = ByteBuffer.wrap(bias.data()).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < outC; c++) {
          int b = bb.getInt();
          lo[c] += b;
          hi[c] += b;
        }
      }
      m = new FixedPoint.Multiplier[outC];
      real = new double[outC];
      for (int c = 0; c < outC; c++) {
        m[c] = FixedPoint.quantizeMultiplier((double) qi.scale() * (double) qw.scale(c) / (double) qo.scale());
        real[c] = Math.scalb((double) m[c].multiplier(), m[c].shift() - 31);
      }
      zeroPoint = qo.zeroPoint();
      act = FixedPoint.activationRangeInt8(op.options(Options.Conv.class).activation(), qo.scale(), qo.zeroPoint());
    }

    int count() { return m.length; }

    private LongUnaryOperator reference(FixedPoint.Multiplier q) {
      return x -> Math.max(act[0], Math.min(act[1], (long) FixedPoint.mbqm((int) x, q) + zeroPoint));
    }

    int fewestLineBits(int c) {
      return LinearRescale.fewestBits(reference(m[c]), real[c], zeroPoint, act[0], act[1], clampInt(lo[c]), clampInt(hi[c]));
    }

    int fewestMbqmBits(int c) {
      long[] ref = steps(reference(m[c]), c);
      for (int bits = 1; bits <= 31; bits++) {
        int drop = 31 - bits;
        long q = drop == 0 ? m[c].multiplier() : ((long) m[c].multiplier() + (1L << (drop - 1))) >> drop << drop;
        if (q >= (1L << 31)) continue;
        if (Arrays.equals(ref, steps(reference(new FixedPoint.Multiplier((int) q, m[c].shift())), c))) return bits;
      }
      return 32;
    }

    /** The first x of each code lo + 1 .. hi on [lo[c], hi[c]] (both functions are non-decreasing in x). */
    private long[] steps(LongUnaryOperator f, int c) {
      long from = clampInt(lo[c]);
      long to = clampInt(hi[c]);
      long[] s = new long[act[1] - act[0]];
      for (int t = act[0] + 1; t <= act[1]; t++) {
        long first;
        if (f.applyAsLong(from) >= t) {
          first = from;
        } else if (f.applyAsLong(to) < t) {
          first = to + 1;
        } else {
          long below = from;
          long above = to;
          while (above - below > 1) {
            long mid = below + (above - below) / 2;
            if (f.applyAsLong(mid) >= t) above = mid; else below = mid;
          }
          first = above;
        }
        s[t - act[0] - 1] = first;
        from = Math.min(first, to);
      }
      return s;
    }

    private static long clampInt(long v) { return Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)); }
  }
}
