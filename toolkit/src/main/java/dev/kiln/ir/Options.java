package dev.kiln.ir;

/**
 * The attributes of an op, one record per kind. Spatial padding is explicit (the frontend resolves
 * SAME/VALID against the input shape), so kernels never re-derive it.
 */
public sealed interface Options {

  /** An op with no attributes (RESHAPE, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6). */
  record None() implements Options {}

  /** Explicit spatial padding: rows/columns of implicit zeros before and after the image. */
  record Padding(int top, int left, int bottom, int right) {
    public static final Padding ZERO = new Padding(0, 0, 0, 0);
  }

  /** CONV_2D and DEPTHWISE_CONV_2D (depthMultiplier is 1 for CONV_2D). */
  record Conv(int strideH, int strideW, int dilationH, int dilationW, Padding padding,
              int depthMultiplier, Activation activation) implements Options {}

  /** MAX_POOL_2D and AVERAGE_POOL_2D. */
  record Pool(int filterH, int filterW, int strideH, int strideW, Padding padding,
              Activation activation) implements Options {}

  /**
   * FULLY_CONNECTED: weights [units, depth]; the input is viewed as [batch, depth].
   * asymmetricQuantizeInputs: for hybrid (float input, int8 weights) ops, quantize each input row
   * with its own zero point, as TFLite's converter asks for dynamic-range Dense layers.
   */
  record FullyConnected(Activation activation, boolean keepNumDims, boolean asymmetricQuantizeInputs) implements Options {
    public FullyConnected(Activation activation, boolean keepNumDims) {
      this(activation, keepNumDims, false);
    }
  }

  /** SOFTMAX over the last axis of beta * x. */
  record Softmax(float beta) implements Options {}

  /** ADD, SUB, MUL with numpy broadcasting. */
  record Elementwise(Activation activation) implements Options {}

  /** CONCATENATION along a non-negative axis. */
  record Concat(int axis, Activation activation) implements Options {}

  /** PAD: per-dimension counts before and after; the value is the output's zero point (0.0f for float). */
  record Pad(int[] before, int[] after) implements Options {}

  /** MEAN over the given non-negative axes. */
  record Mean(int[] axes, boolean keepDims) implements Options {}

  /** TRANSPOSE: output axis {@code i} is input axis {@code perm[i]} (numpy/ONNX convention). */
  record Transpose(int[] perm) implements Options {
    public Transpose {
      perm = perm.clone();
    }

    @Override public int[] perm() { return perm.clone(); }

    @Override public String toString() { return "Transpose[perm=" + java.util.Arrays.toString(perm) + "]"; }
  }

  /** CLAMP: {@code min(max(x, min), max)} in real values; {@code min > max} gives {@code max} everywhere. */
  record Clamp(float min, float max) implements Options {}
}
