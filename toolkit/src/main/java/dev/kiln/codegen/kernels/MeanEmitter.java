package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * MEAN over constant axes, int8 and float32.
 *
 * <p>int8 follows TF 2.21's reference kernel (reduce.cc EvalMean -> EvalQuantizedMean ->
 * reference_ops::QuantizedMeanOrSum, integer version; the same path whether or not input and
 * output share their quantization — verified against the interpreter): {@code (q, s) =
 * QuantizeMultiplier(f64(s_in) / f64(s_out))}; with {@code n} reduced elements, {@code k =
 * min(floor(log2 n), 32, 31 + s)}, {@code q' = (q * 2^k) / n} (64-bit, truncating), {@code s' = s -
 * k}; {@code out = clamp(MBQM(sum - n * z_in, q', s') + z_out, -128, 127)}. An empty axis list
 * copies the input (TFLite's ReduceIsCopy). float32: float sum in input order, divided by
 * {@code (float) n}.
 */
final class MeanEmitter implements KernelEmitter {
  static final int MAX_DIMS = 6;

  /** Kept and reduced dimension groups (outermost first) of the input. */
  record Plan(int[] keptSize, int[] keptStride, int[] reducedSize, int[] reducedStride, long count) {}

  static Plan plan(int[] shape, int[] axes) {
    boolean[] reduced = new boolean[shape.length];
    for (int a : axes) reduced[a] = true;
    long[] strides = new long[shape.length];
    long s = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = s;
      s *= shape[d];
    }
    List<long[]> kept = new ArrayList<>();
    List<long[]> red = new ArrayList<>();
    long count = 1;
    Boolean lastKind = null;
    for (int d = 0; d < shape.length; d++) {
      if (reduced[d]) count *= shape[d];
      if (shape[d] == 1) continue; // contributes nothing to either walk
      List<long[]> list = reduced[d] ? red : kept;
      if (lastKind != null && lastKind == reduced[d]) {
        long[] g = list.get(list.size() - 1); // merge with the previous (outer) dimension of the same kind
        g[0] *= shape[d];
        g[1] = strides[d];
      } else {
        list.add(new long[] {shape[d], strides[d]});
      }
      lastKind = reduced[d];
    }
    if (red.isEmpty()) red.add(new long[] {1, 1});
    return new Plan(sizes(kept, 0), sizes(kept, 1), sizes(red, 0), sizes(red, 1), count);
  }

  private static int[] sizes(List<long[]> groups, int field) {
    int[] v = new int[groups.size()];
    for (int i = 0; i < v.length; i++) v[i] = Math.toIntExact(groups.get(i)[field]);
    return v;
  }

  /** The int8 multiplier and shift that include 1/count (QuantizedMeanOrSum's readaptation). */
  static FixedPoint.Multiplier int8Multiplier(float inScale, float outScale, long count) {
    FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) inScale / (double) outScale);
    int k = 63 - Long.numberOfLeadingZeros(count);
    k = Math.min(k, 32);
    k = Math.min(k, 31 + m.shift());
    long q = ((long) m.multiplier() << k) / count;
    return new FixedPoint.Multiplier((int) q, m.shift() - k);
  }

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Options.Mean o = op.options(Options.Mean.class);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    for (int a : o.axes()) {
      if (a < 0 || a >= in.rank()) throw unsupported(op, "axis " + a + " is outside the input's rank " + in.rank());
    }
    Plan p = plan(in.shape(), o.axes());
    if (p.keptSize.length > MAX_DIMS || p.reducedSize.length > MAX_DIMS) {
      throw unsupported(op, "the input " + NnSupport.shape(in) + " alternates kept and reduced dimensions too often; "
          + "Kiln handles up to " + MAX_DIMS + " groups of each");
    }
    long outputs = 1;
    for (int k : p.keptSize) outputs *= k;
    if (out.elements() != outputs) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " should have " + outputs + " elements");
    }
    if (p.count > (1L << 23)) {
      throw unsupported(op, "averages " + p.count + " elements per output; the int32 sum of the kernel (as TFLite's) "
          + "holds at most 2^23");
    }
    if (in.dtype() == DType.INT8 && out.dtype() == DType.INT8) {
      NnSupport.perTensor(op, in, "the input");
      NnSupport.perTensor(op, out, "the output");
    } else if (!(in.dtype() == DType.FLOAT32 && out.dtype() == DType.FLOAT32)) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles MEAN for int8 and float32");
    }
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Options.Mean o = op.options(Options.Mean.class);
    Tensor in = op.input(0);
    Tensor out = op.output();
    Plan p = plan(in.shape(), o.axes());
    NnSupport.Init init = new NnSupport.Init()
        .put("num_kept", p.keptSize.length).raw("kept_size", list(p.keptSize)).raw("kept_stride", list(p.keptStride))
        .put("num_reduced", p.reducedSize.length).raw("reduced_size", list(p.reducedSize))
        .raw("reduced_stride", list(p.reducedStride)).put("count", (int) p.count);
    String fn;
    if (in.dtype() == DType.INT8) {
      Quantization qi = in.quantization();
      Quantization qo = out.quantization();
      if (o.axes().length == 0) {
        // ReduceIsCopy: the raw codes, whatever the quantization
        init.put("input_zero_point", 0).put("output_zero_point", 0).put("multiplier", 1 << 30).put("shift", 1);
      } else {
        FixedPoint.Multiplier m = int8Multiplier(qi.scale(), qo.scale(), p.count);
        init.put("input_zero_point", qi.zeroPoint()).put("output_zero_point", qo.zeroPoint())
            .put("multiplier", m.multiplier()).put("shift", m.shift());
      }
      fn = "kiln_mean_s8";
    } else {
      fn = "kiln_mean_f32";
    }
    String params = ctx.constant("kiln_mean_params", "mean", init.toString());
    ctx.body().line(NnSupport.format("%s(&%s, %s, %s);", fn, params, ctx.data(in), ctx.data(out)));
  }

  private static String list(int[] v) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    if (v.length == 0) sb.append('0');
    return sb.append('}').toString();
  }
}
