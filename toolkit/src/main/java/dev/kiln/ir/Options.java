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

  /**
   * How an int8 convolution turns its int32 accumulator (bias included) into an output code.
   * TFLITE: TFLite's reference kernels (MultiplyByQuantizedMultiplier: a Q31 multiplier and a shift,
   * two roundings). ONNXRUNTIME: onnxruntime's fused QDQ kernels (QLinearConv):
   * {@code rne(float32(acc) * float32(float32(s_in * s_w[c]) / s_out))}, clamped, plus the zero point.
   */
  enum Requantize { TFLITE, ONNXRUNTIME }

  /** CONV_2D and DEPTHWISE_CONV_2D (depthMultiplier is 1 for CONV_2D); requantize matters for int8 only. */
  record Conv(int strideH, int strideW, int dilationH, int dilationW, Padding padding,
              int depthMultiplier, Activation activation, Requantize requantize) implements Options {
    public Conv(int strideH, int strideW, int dilationH, int dilationW, Padding padding, int depthMultiplier,
                Activation activation) {
      this(strideH, strideW, dilationH, dilationW, padding, depthMultiplier, activation, Requantize.TFLITE);
    }
  }

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

  /**
   * ADD, SUB, MUL (and DIV) with numpy broadcasting. potScaleInt16: TFLite's int16 ADD/SUB flag for
   * power-of-two scales (another kernel); false for every other op and type.
   */
  record Elementwise(Activation activation, boolean potScaleInt16) implements Options {
    public Elementwise(Activation activation) {
      this(activation, false);
    }
  }

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

  /**
   * QUANTIZE with an explicit rounding of {@code x / scale} at ties: half away from zero (TFLite,
   * also what {@link None} means) or half to even (ONNX QuantizeLinear). Requantizing 8-bit codes
   * with halfToEven follows ONNX's DequantizeLinear then QuantizeLinear in float32.
   */
  record Quantize(boolean halfToEven) implements Options {}

  /** CLAMP: {@code min(max(x, min), max)} in real values; {@code min > max} gives {@code max} everywhere. */
  record Clamp(float min, float max) implements Options {}

  // family: elementwise math (ops-eltwise)
  /** LEAKY_RELU: {@code x > 0 ? x : alpha * x}. */
  record LeakyRelu(float alpha) implements Options {}

  /** GELU: exact (erf) or the tanh approximation. */
  record Gelu(boolean approximate) implements Options {}
}
