package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.NnSupport.dtypes;
import static dev.kiln.codegen.kernels.NnSupport.unsupported;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ops whose output element reads one input element (or a pad value) at an input offset that is a
 * sum of one term per output axis, so Prepare (here) writes one table of terms per axis and the
 * device runs the generic {@code kiln_index_table}: PAD (int16; other dtypes stay with {@link PadEmitter}),
 * PADV2, MIRROR_PAD (reference mirror_pad.cc index rule), RESIZE_NEAREST_NEIGHBOR (reference
 * GetNearestNeighbor, in float32 like TFLite), DEPTH_TO_SPACE, SPACE_TO_DEPTH (the output seen as 6
 * axes) and BATCH_TO_SPACE_ND (the block position folds into the spatial terms). A term of -1 means
 * padding. Values are moved, never converted: quantized tensors must share scale and zero point.
 */
final class IndexTableEmitter implements KernelEmitter {
  static final int AXES = 6;
  private final OpType type;

  IndexTableEmitter(OpType type) {
    this.type = type;
  }

  @Override public void check(Op op) {
    NnSupport.requireOneOutput(op);
    Tensor in = NnSupport.requireInput(op, 0, "input");
    Tensor out = op.output();
    NnSupport.requireNonEmpty(op, in, "the input");
    NnSupport.requireNonEmpty(op, out, "the output");
    if (in.dtype() != out.dtype()) throw unsupported(op, "dtypes " + dtypes(op) + " differ; " + op.type() + " moves values unchanged");
    if (type == OpType.PAD && in.dtype() != DType.INT16) {
      throw unsupported(op, "dtypes " + dtypes(op) + " are not supported; Kiln compiles PAD for int8, int16 and float32");
    }
    if (in.dtype() == DType.INT8 || in.dtype() == DType.INT16) ReduceKernels.requireSameQuantization(op, in, out);
    if (type == OpType.PADV2) {
      Tensor v = NnSupport.requireInput(op, 2, "constant_values");
      if (v.dtype() != in.dtype() || v.elements() != 1) {
        throw unsupported(op, "its constant_values '" + v.name() + "' is " + v.dtype() + " " + NnSupport.shape(v)
            + "; expected one " + in.dtype() + " value");
      }
      if (in.dtype() == DType.INT8 || in.dtype() == DType.INT16) ReduceKernels.requireSameQuantization(op, v, out);
    }
    if (type == OpType.MIRROR_PAD) {
      Options.MirrorPad o = op.options(Options.MirrorPad.class);
      int extra = o.symmetric() ? 0 : 1;
      for (int d = 0; d < in.rank(); d++) {
        if (o.before()[d] > in.dim(d) - extra || o.after()[d] > in.dim(d) - extra) {
          throw unsupported(op, "pads dimension " + d + " (size " + in.dim(d) + ") by " + o.before()[d] + " / " + o.after()[d]
              + "; " + (o.symmetric() ? "SYMMETRIC allows at most the size" : "REFLECT allows at most the size - 1"));
        }
      }
    }
    int[][] t = terms(op);
    if (t.length > AXES) {
      throw unsupported(op, "the output has rank " + out.rank() + "; Kiln compiles " + op.type() + " up to rank " + (type == OpType.PAD
          || type == OpType.PADV2 || type == OpType.MIRROR_PAD ? AXES : 4));
    }
    long n = 1;
    for (int[] axis : t) n *= axis.length;
    if (n != out.elements()) {
      throw unsupported(op, "the output " + NnSupport.shape(out) + " does not match the input " + NnSupport.shape(in) + " and "
          + op.options());
    }
  }

  /** The input-offset terms of each output axis (outermost first), before padding to 6 axes. */
  private int[][] terms(Op op) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    int[] stride = strides(in.shape());
    switch (type) {
      case PAD, PADV2 -> {
        Options.Pad o = op.options(Options.Pad.class);
        return padTerms(in, stride, o.before(), o.after(), null);
      }
      case MIRROR_PAD -> {
        Options.MirrorPad o = op.options(Options.MirrorPad.class);
        return padTerms(in, stride, o.before(), o.after(), o.symmetric());
      }
      case RESIZE_NEAREST_NEIGHBOR -> {
        requireRank4(op, in, out);
        Options.Resize o = op.options(Options.Resize.class);
        int[][] t = {identity(out.dim(0), stride[0]), new int[out.dim(1)], new int[out.dim(2)], identity(out.dim(3), 1)};
        for (int y = 0; y < out.dim(1); y++) t[1][y] = nearest(y, in.dim(1), out.dim(1), o) * stride[1];
        for (int x = 0; x < out.dim(2); x++) t[2][x] = nearest(x, in.dim(2), out.dim(2), o) * stride[2];
        return t;
      }
      case DEPTH_TO_SPACE -> {
        requireRank4(op, in, out);
        int bs = op.options(Options.BlockSize.class).block();
        int c = in.dim(3) / (bs * bs);
        if (c * bs * bs != in.dim(3) || out.dim(1) != in.dim(1) * bs || out.dim(2) != in.dim(2) * bs || out.dim(3) != c
            || out.dim(0) != in.dim(0)) {
          throw unsupported(op, "the output " + NnSupport.shape(out) + " is not the input " + NnSupport.shape(in)
              + " rearranged with block size " + bs);
        }
        return new int[][] {identity(in.dim(0), stride[0]), identity(in.dim(1), stride[1]), identity(bs, bs * c),
            identity(in.dim(2), stride[2]), identity(bs, c), identity(c, 1)};
      }
      case SPACE_TO_DEPTH -> {
        requireRank4(op, in, out);
        int bs = op.options(Options.BlockSize.class).block();
        int c = in.dim(3);
        if (in.dim(1) % bs != 0 || in.dim(2) % bs != 0 || out.dim(1) != in.dim(1) / bs || out.dim(2) != in.dim(2) / bs
            || out.dim(3) != c * bs * bs || out.dim(0) != in.dim(0)) {
          throw unsupported(op, "the output " + NnSupport.shape(out) + " is not the input " + NnSupport.shape(in)
              + " rearranged with block size " + bs);
        }
        return new int[][] {identity(in.dim(0), stride[0]), identity(out.dim(1), bs * stride[1]),
            identity(out.dim(2), bs * stride[2]), identity(bs, stride[1]), identity(bs, stride[2]), identity(c, 1)};
      }
      case BATCH_TO_SPACE_ND -> {
        Options.SpaceBatch o = op.options(Options.SpaceBatch.class);
        int m = o.block().length;
        if (in.rank() != out.rank() || (in.rank() != 3 && in.rank() != 4) || m != in.rank() - 2) {
          throw unsupported(op, "Kiln compiles BATCH_TO_SPACE_ND for 3-D and 4-D inputs with one block entry per spatial "
              + "dimension; the input is " + NnSupport.shape(in) + " with block " + Arrays.toString(o.block()));
        }
        long blocks = 1;
        for (int b : o.block()) blocks *= b;
        int ob = (int) (in.dim(0) / blocks);
        if (ob * blocks != in.dim(0) || out.dim(0) != ob) {
          throw unsupported(op, "the input batch " + in.dim(0) + " is not the output batch " + out.dim(0) + " times the block "
              + Arrays.toString(o.block()));
        }
        List<int[]> t = new ArrayList<>();
        t.add(identity(ob, stride[0]));
        long after = blocks;
        for (int k = 0; k < m; k++) {
          after /= o.block()[k];
          int size = out.dim(k + 1);
          if ((long) in.dim(k + 1) * o.block()[k] - o.before()[k] - o.after()[k] != size) {
            throw unsupported(op, "the output " + NnSupport.shape(out) + " does not match the input " + NnSupport.shape(in)
                + " with block " + Arrays.toString(o.block()) + " and crops " + Arrays.toString(o.before()) + " / "
                + Arrays.toString(o.after()));
          }
          int[] axis = new int[size];
          for (int y = 0; y < size; y++) {
            int q = y + o.before()[k];
            axis[y] = Math.toIntExact((q % o.block()[k]) * after * ob * stride[0] + (long) (q / o.block()[k]) * stride[k + 1]);
          }
          t.add(axis);
        }
        t.add(identity(in.dim(in.rank() - 1), 1));
        return t.toArray(new int[0][]);
      }
      default -> throw new IllegalStateException("not a gather op: " + type);
    }
  }

  private void requireRank4(Op op, Tensor in, Tensor out) {
    NnSupport.requireRank(op, in, "the input", 4);
    NnSupport.requireRank(op, out, "the output", 4);
  }

  /** PAD/PADV2 (symmetric null: -1 in the padding) and MIRROR_PAD (mirror_pad.cc GetInputDimension). */
  private static int[][] padTerms(Tensor in, int[] stride, int[] before, int[] after, Boolean symmetric) {
    int[][] t = new int[in.rank()][];
    for (int d = 0; d < in.rank(); d++) {
      int size = in.dim(d);
      t[d] = new int[before[d] + size + after[d]];
      for (int i = 0; i < t[d].length; i++) {
        int j;
        if (symmetric == null) {
          j = i - before[d];
          j = j < 0 || j >= size ? -1 : j;
        } else {
          int offset = symmetric ? 0 : 1;
          if (i < before[d]) {
            int original = before[d] + offset - 1;
            j = original - Math.min(i, original - offset);
          } else if (i - before[d] >= size) {
            int k = i - before[d] - size;
            int original = size - (1 + offset);
            j = original - Math.min(k, original);
          } else {
            j = i - before[d];
          }
        }
        t[d][i] = j < 0 ? -1 : j * stride[d];
      }
    }
    return t;
  }

  /** reference_ops GetNearestNeighbor, float32 arithmetic as in TFLite. */
  static int nearest(int v, int inSize, int outSize, Options.Resize o) {
    float scale = (o.alignCorners() && outSize > 1) ? (inSize - 1) / (float) (outSize - 1) : inSize / (float) outSize;
    float offset = o.halfPixelCenters() ? 0.5f : 0.0f;
    float f = ((float) v + offset) * scale;
    int r = Math.min(o.alignCorners() ? FixedPoint.rhaz(f) : (int) Math.floor(f), inSize - 1);
    return o.halfPixelCenters() ? Math.max(0, r) : r;
  }

  static int[] strides(int[] shape) {
    int[] s = new int[shape.length];
    long acc = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      s[d] = Math.toIntExact(acc);
      acc *= shape[d];
    }
    return s;
  }

  private static int[] identity(int n, int step) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) v[i] = i * step;
    return v;
  }

  @Override public void emit(Op op, KernelContext ctx) {
    Tensor in = op.input(0);
    Tensor out = op.output();
    int[][] t = terms(op);
    int lead = AXES - t.length;
    int[] dims = new int[AXES];
    int[] start = new int[AXES];
    List<Integer> flat = new ArrayList<>();
    for (int a = 0; a < AXES; a++) {
      int[] axis = a < lead ? new int[] {0} : t[a - lead];
      dims[a] = axis.length;
      start[a] = flat.size();
      for (int v : axis) flat.add(v);
    }
    String table = ctx.tableI32(type.name().toLowerCase(java.util.Locale.ROOT) + "_terms",
        flat.stream().mapToInt(Integer::intValue).toArray());
    String params = ctx.constant("kiln_index_table_params", "gather", new NnSupport.Init().raw("out_dims", ReduceKernels.list(dims))
        .raw("table_start", ReduceKernels.list(start)).put("element_bytes", in.dtype().byteSize()).toString());
    String pad;
    if (type == OpType.PADV2) {
      pad = ctx.data(op.input(2));
    } else if (type == OpType.PAD) {
      pad = "&" + ctx.constant(in.dtype().cType(), "pad_value", padLiteral(out));
    } else {
      pad = "NULL";
    }
    ctx.body().line(NnSupport.format("kiln_index_table(&%s, %s, %s, %s, %s);", params, table, ctx.data(in), pad, ctx.data(out)));
  }

  /** The value padding takes: the output zero point for quantized tensors, else 0. */
  static String padLiteral(Tensor out) {
    if (out.dtype() == DType.FLOAT32) return CLiterals.f32(0f);
    return CLiterals.i32(out.quantization().isQuantized() ? out.quantization().zeroPoint() : 0);
  }
}
