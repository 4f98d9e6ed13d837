package dev.kiln.codegen.kernels;

import dev.kiln.codegen.CLiterals;
import dev.kiln.codegen.KernelContext;
import dev.kiln.compile.FixedPoint;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.stream.Collectors;

/** Checks and Prepare helpers shared by the emitters of {@link NnKernels}. */
final class NnSupport {
  private NnSupport() {}

  /** "CONV_2D op #3 (output 'y')", the start of every message. */
  static String describe(Op op) {
    return op.type() + " op #" + op.index() + " (output '" + op.output().name() + "')";
  }

  static UnsupportedOperationException unsupported(Op op, String sentence) {
    return new UnsupportedOperationException(describe(op) + ": " + sentence);
  }

  /** "(int8, int8, -) -> int8": the dtypes of the inputs (absent ones as "-") and the output. */
  static String dtypes(Op op) {
    return op.inputs().stream().map(t -> t == null ? "-" : t.dtype().toString()).collect(Collectors.joining(", ", "(", ")"))
        + " -> " + op.output().dtype();
  }

  /** Requires input {@code i} to be present. */
  static Tensor requireInput(Op op, int i, String role) {
    Tensor t = op.input(i);
    if (t == null) throw unsupported(op, "its " + role + " (input " + i + ") is missing; the model file is malformed");
    return t;
  }

  /**
   * Input 0 of an image operator (NHWC): present, rank 4 like the output, and not empty; checked in this
   * order so that every such operator names the same first problem.
   */
  static Tensor requireImageInput(Op op) {
    Tensor in = requireInput(op, 0, "input");
    requireRank(op, in, "the input", 4);
    requireRank(op, op.output(), "the output", 4);
    requireNonEmpty(op, in, "the input");
    return in;
  }

  static void requireOneOutput(Op op) {
    if (op.outputs().size() != 1) {
      throw unsupported(op, "has " + op.outputs().size() + " outputs, expected 1; the model file is malformed");
    }
  }

  static void requireRank(Op op, Tensor t, String role, int rank) {
    if (t.rank() != rank) {
      throw unsupported(op, role + " '" + t.name() + "' has shape " + dev.kiln.ir.Shape.toString(t.shape())
          + "; expected rank " + rank);
    }
  }

  static void requireNonEmpty(Op op, Tensor t, String role) {
    if (t.elements() == 0) {
      throw unsupported(op, role + " '" + t.name() + "' has no elements (shape " + dev.kiln.ir.Shape.toString(t.shape())
          + "); Kiln does not compile empty tensors");
    }
  }

  /** Fused activations Kiln compiles as a clamp: NONE, RELU, RELU_N1_TO_1, RELU6. */
  static void requireClampActivation(Op op, Activation act) {
    if (act == Activation.TANH || act == Activation.SIGN_BIT) {
      throw unsupported(op, "has the fused activation " + act + ", which TFLite's kernels do not apply (they treat it as "
          + "NONE); Kiln compiles only NONE, RELU, RELU_N1_TO_1 and RELU6 — convert the model with a separate "
          + act + " op");
    }
  }

  /** The per-tensor quantization of an int8 activation tensor, checked. */
  static Quantization perTensor(Op op, Tensor t, String role) {
    Quantization q = t.quantization();
    if (!q.isQuantized()) {
      throw unsupported(op, role + " '" + t.name() + "' is int8 without quantization parameters; quantize the model "
          + "with a representative dataset so every int8 tensor has a scale and zero point");
    }
    if (q.isPerChannel()) {
      throw unsupported(op, role + " '" + t.name() + "' has per-channel quantization (" + q.count() + " scales); "
          + "this op needs one scale per tensor, as the TFLite converter emits for activations");
    }
    requireScale(op, t, role, q.scale());
    int z = q.zeroPoint();
    if (z < -128 || z > 127) {
      throw unsupported(op, role + " '" + t.name() + "' has zero point " + z + " outside the int8 range [-128, 127]");
    }
    return q;
  }

  static void requireScale(Op op, Tensor t, String role, float s) {
    if (!(s > 0) || Float.isInfinite(s)) {
      throw unsupported(op, role + " '" + t.name() + "' has scale " + s + "; scales must be finite and positive");
    }
  }

  /**
   * The scales of an int8 weight tensor: one (per-tensor) or {@code channels} along {@code axis},
   * checked finite and positive.
   */
  static float[] weightScales(Op op, Tensor w, String role, int axis, int channels) {
    Quantization q = w.quantization();
    if (!q.isQuantized()) {
      throw unsupported(op, role + " '" + w.name() + "' is int8 without quantization parameters; the model file is "
          + "malformed or was not produced by the TFLite converter");
    }
    if (q.count() != 1 && (q.count() != channels || q.axis() != axis)) {
      throw unsupported(op, role + " '" + w.name() + "' has " + q.count() + " scales along dimension " + q.axis()
          + "; expected 1 or " + channels + " along dimension " + axis);
    }
    float[] scales = new float[channels];
    for (int c = 0; c < channels; c++) {
      scales[c] = q.scale(c);
      requireScale(op, w, role, scales[c]);
    }
    return scales;
  }

  static void requireInt32Bias(Op op, Tensor bias, int channels) {
    if (bias == null) return;
    if (bias.dtype() != DType.INT32) {
      throw unsupported(op, "the bias '" + bias.name() + "' is " + bias.dtype() + "; int8 kernels need an int32 bias "
          + "(TFLite's int8 scheme; an int64 bias belongs to the 16x8 scheme, whose input and output are int16)");
    }
    if (bias.elements() != channels) {
      throw unsupported(op, "the bias '" + bias.name() + "' has " + bias.elements() + " elements; expected " + channels);
    }
  }

  static void requireFloatBias(Op op, Tensor bias, int channels) {
    if (bias == null) return;
    if (bias.dtype() != DType.FLOAT32) {
      throw unsupported(op, "the bias '" + bias.name() + "' is " + bias.dtype() + "; a float32 output needs a float32 bias");
    }
    if (bias.elements() != channels) {
      throw unsupported(op, "the bias '" + bias.name() + "' has " + bias.elements() + " elements; expected " + channels);
    }
  }

  /**
   * Rejects an int8 requantization with a left shift (multiplier >= 1) unless the accumulator,
   * bounded from the constant weights and bias, stays below 2^31 after the shift (section 3.1:
   * the reference shifts the int32 accumulator, an overflow is undefined).
   *
   * @param accBound the largest possible |accumulator| per channel, or null if unknown (weights
   *     or bias not constant)
   */
  static void requireShiftFits(Op op, FixedPoint.Multiplier[] multipliers, long[] accBound) {
    for (int c = 0; c < multipliers.length; c++) {
      int shift = multipliers[c].shift();
      if (shift <= 0) continue;
      if (accBound == null) {
        throw unsupported(op, "output channel " + c + " has a requantization multiplier >= 1 (input scale * weight scale "
            + ">= output scale) and its weights are not constant, so Kiln cannot prove the left-shifted accumulator fits "
            + "in 32 bits; re-quantize the model so the output scale is larger");
      }
      if (shift >= 31 || (accBound[c] << shift) >= (1L << 31)) {
        throw unsupported(op, "output channel " + c + " has a requantization multiplier >= 1 (shift " + shift
            + ") and its accumulator can reach " + accBound[c] + ", which overflows 32 bits when shifted (undefined in "
            + "TFLite's kernel); re-quantize the model so the output scale is larger");
      }
    }
  }

  /** The max |x - z| of an int8 code. */
  static long maxAbsInput(int zeroPoint) {
    return Math.max(Math.abs(-128L - zeroPoint), Math.abs(127L - zeroPoint));
  }

  static int[] int32Data(Tensor t) {
    byte[] b = t.data();
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int[] v = new int[b.length / 4];
    for (int i = 0; i < v.length; i++) v[i] = buf.getInt();
    return v;
  }

  /** int8 clamp range of the fused activation for this output quantization. */
  static int[] actRangeInt8(Activation act, Quantization out) {
    return FixedPoint.activationRangeInt8(act, out.scale(), out.zeroPoint());
  }

  /** C float literal. */
  static String f32(float v) {
    return CLiterals.f32(v);
  }

  static String i32(int v) {
    return CLiterals.i32(v);
  }

  static String shape(Tensor t) {
    return dev.kiln.ir.Shape.toString(t.shape());
  }

  /** A designated initializer list ".a = 1, .b = x" built field by field. */
  static final class Init {
    private final StringBuilder sb = new StringBuilder();
    private String wide; // the first kiln_dim_t / kiln_dim8_t field that does not fit, or null

    Init put(String field, int value) { return raw(field, CLiterals.i32(value)); }

    /** A kiln_dim_t field (kiln_nn.h): 16 bits unless {@link #useDims} finds one out of [0, 65535]. */
    Init dim(String field, int value) { return dim(field, value, 0xffff); }

    /** A kiln_dim8_t field (a window size, stride, dilation, padding): 8 bits unless one is out of [0, 255]. */
    Init dim8(String field, int value) { return dim(field, value, 0xff); }

    private Init dim(String field, int value, int max) {
      if ((value < 0 || value > max) && wide == null) wide = field + " = " + value;
      return put(field, value);
    }

    /**
     * Sets KILN_DIM_WIDE_USED (int32 kiln_dim_t in the model's kiln_nn.h) when a {@link #dim} field
     * of this struct does not fit the default 16 bits, so every model compiles whatever its sizes.
     */
    Init useDims(KernelContext ctx, Op op) {
      if (wide != null) {
        ctx.useKernelSwitch("KILN_DIM_WIDE_USED", op.type() + " " + wide + " does not fit its field");
      }
      return this;
    }

    Init put(String field, float value) { return raw(field, CLiterals.f32(value)); }

    Init raw(String field, String expression) {
      if (sb.length() > 0) sb.append(", ");
      sb.append('.').append(field).append(" = ").append(expression);
      return this;
    }

    @Override public String toString() { return sb.toString(); }
  }

  static String format(String fmt, Object... args) { return String.format(Locale.ROOT, fmt, args); }
}
