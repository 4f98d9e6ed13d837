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
   * requantize (int8): TFLITE (round(double(acc) * M), TFLite's reference), or ONNXRUNTIME for a
   * fused QDQ Gemm/MatMul (QGemm, QLinearMatMul: as for Conv).
   */
  record FullyConnected(Activation activation, boolean keepNumDims, boolean asymmetricQuantizeInputs,
                        Requantize requantize) implements Options {
    public FullyConnected(Activation activation, boolean keepNumDims, boolean asymmetricQuantizeInputs) {
      this(activation, keepNumDims, asymmetricQuantizeInputs, Requantize.TFLITE);
    }

    public FullyConnected(Activation activation, boolean keepNumDims) {
      this(activation, keepNumDims, false, Requantize.TFLITE);
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

  /**
   * ADD and MUL of int8 tensors with onnxruntime's arithmetic for a fused QDQ group (QLinearAdd,
   * QLinearMul on x86-64: float32 arithmetic on the codes, rounded half to even), not TFLite's fixed
   * point. uint8: onnxruntime computes on uint8 codes, the stored int8 codes plus 128 (zero points
   * likewise): ONNX uint8 tensors, which Kiln stores minus 128, and the int8 ones onnxruntime converts
   * to uint8. swapped (ADD): onnxruntime ran QLinearAdd with its inputs exchanged, as it does when the
   * first input is broadcast along the innermost axis of the ONNX shapes, which changes the order of
   * its two fused multiply-adds.
   */
  record QLinear(boolean uint8, boolean swapped) implements Options {}

  /**
   * AVERAGE_POOL_2D of int8 codes with onnxruntime's arithmetic for a fused QDQ group. global
   * (QLinearGlobalAveragePool, the window is the whole image): {@code rne(float32(sum(x - z_x)) *
   * float32(s_x / (s_y * float32(count)))) + z_y}. Else QLinearAveragePool: the dequantized taps
   * {@code float32(s_x * (x - z_x))} summed in float32 in window order, divided by the count (the
   * window's size with countIncludePad, else its taps inside the image), then {@code rne(avg / s_y +
   * z_y)}. Both saturate; uint8 as in {@link QLinear}.
   */
  record QLinearPool(Pool pool, boolean global, boolean countIncludePad, boolean uint8) implements Options {}

  /**
   * SOFTMAX of int8 codes over the last axis as onnxruntime's QLinearSoftmax computes it: a 256-entry
   * float32 table {@code exp((k - 255 + shift) * s_x)} indexed by {@code code - max + 255}, the row's
   * sum in float32 in order, then {@code rne(e * floor(1 / s_y) / sum) + z_y}, at most 127. uint8 as
   * in {@link QLinear} (the result is the same in either domain).
   */
  record QLinearSoftmax(boolean uint8) implements Options {}

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

  // family: heavy NN operators (ops-nn2)
  /**
   * TRANSPOSE_CONV: padding is what TFLite derives from the op's output size (the odd pixel after);
   * the kernel skips output rows/columns before the padding.
   */
  record TransposeConv(int strideH, int strideW, Padding padding, Activation activation) implements Options {}

  /**
   * BATCH_MATMUL: {@code out[..., i, j] = sum_k x'[..., i, k] * y'[..., k, j]}, x' = adjX ? x^T : x (same
   * for y). requantize (int8): TFLITE, or ONNXRUNTIME for a fused QDQ MatMul of two activations
   * (QLinearMatMul: {@code rne(float32(acc) * float32(float32(s_x * s_y) / s_out)) + z_out}, clamped).
   */
  record BatchMatMul(boolean adjX, boolean adjY, Requantize requantize) implements Options {
    public BatchMatMul(boolean adjX, boolean adjY) {
      this(adjX, adjY, Requantize.TFLITE);
    }
  }
  // family: elementwise math (ops-eltwise)
  /** LEAKY_RELU: {@code x > 0 ? x : alpha * x}. */
  record LeakyRelu(float alpha) implements Options {}

  /** GELU: exact (erf) or the tanh approximation. */
  record Gelu(boolean approximate) implements Options {}
  // family: data movement (ops-movement)

  /**
   * STRIDED_SLICE's masks (bit i is axis i of the begin/end/strides vectors); {@code offset} makes
   * end relative to begin. Begin, end and strides stay constant inputs 1..3.
   */
  record StridedSlice(int beginMask, int endMask, int ellipsisMask, int newAxisMask, int shrinkAxisMask,
                      boolean offset) implements Options {}

  /** PACK, UNPACK, SPLIT, SPLIT_V: the non-negative axis they stack along or cut. */
  record Axis(int axis) implements Options {}

  /** GATHER: the non-negative axis of the params that the indices select along, and leading batch dims. */
  record Gather(int axis, int batchDims) implements Options {}
  // family: reductions, resampling, spatial (ops-reduce). SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_ALL
  // use {@link Mean} (axes and keep_dims); PADV2 uses {@link Pad} (its value stays input 2);
  // L2_POOL_2D uses {@link Pool}.

  /** ARG_MAX / ARG_MIN over one non-negative axis. */
  record ArgMinMax(int axis) implements Options {}

  /** TOPK along one non-negative axis: the largest values, or the smallest. */
  record TopK(int axis, boolean largest) implements Options {}

  /**
   * INT_ARITH's operation, as ONNX defines it on integers: ADD, SUB and MUL wrap around; DIV truncates toward
   * zero; MOD takes the divisor's sign (Python's %), FMOD the dividend's (C's %); the comparisons write bool.
   * A zero divisor gives 0 (onnxruntime leaves it undefined; the device must not trap).
   */
  record IntArith(Kind kind) implements Options {
    public enum Kind { ADD, SUB, MUL, DIV, MOD, FMOD, MAX, MIN, EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL;
      public boolean isComparison() { return ordinal() >= EQUAL.ordinal(); }
    }
  }

  /** CUMSUM along one non-negative axis. */
  record Cumsum(int axis, boolean exclusive, boolean reverse) implements Options {}

  /** RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (the output size is the output tensor's). */
  record Resize(boolean alignCorners, boolean halfPixelCenters) implements Options {}

  /** DEPTH_TO_SPACE and SPACE_TO_DEPTH. */
  record BlockSize(int block) implements Options {}

  /**
   * SPACE_TO_BATCH_ND (before/after = paddings) and BATCH_TO_SPACE_ND (before/after = crops), one
   * entry per spatial dimension.
   */
  record SpaceBatch(int[] block, int[] before, int[] after) implements Options {}

  /** MIRROR_PAD: counts before and after per dimension; symmetric copies the edge, reflect does not. */
  record MirrorPad(int[] before, int[] after, boolean symmetric) implements Options {}

  /** L2_NORMALIZATION over the last axis. */
  record L2Norm(Activation activation) implements Options {}

  /** LOCAL_RESPONSE_NORMALIZATION over the last axis. */
  record Lrn(int radius, float bias, float alpha, float beta) implements Options {}

  /** SVDF: inputs (input, weights_feature, weights_time, optional bias, state variable); units = filters / rank. */
  record Svdf(int rank, Activation activation) implements Options {}

  /**
   * UNIDIRECTIONAL_SEQUENCE_LSTM: TFLite's 24 inputs (absent optional ones null); activation is the
   * cell activation (TANH in every converter's output); clips of 0 mean none.
   */
  record SequenceLstm(Activation activation, float cellClip, float projClip, boolean timeMajor,
                      java.util.List<Quantization> intermediates) implements Options {
    // family: int8 LSTM (lstm-int8): the operator's intermediate tensors' quantization (TFLite's full-integer
    // LSTM takes its internal scales from them; empty for float models)
    public SequenceLstm {
      intermediates = java.util.List.copyOf(intermediates);
    }

    public SequenceLstm(Activation activation, float cellClip, float projClip, boolean timeMajor) {
      this(activation, cellClip, projClip, timeMajor, java.util.List.of());
    }
  }

  // family: control flow (ctrl-flow)
  /**
   * WHILE (cond, body), IF (then, else) and CALL_ONCE (init): the subgraphs the op runs, each a
   * {@link Graph} whose inputs and outputs are its parameters, with their indices in the model file
   * (for messages).
   */
  record Subgraphs(java.util.List<Graph> graphs, java.util.List<Integer> indices) implements Options {
    public Subgraphs {
      graphs = java.util.List.copyOf(graphs);
      indices = java.util.List.copyOf(indices);
    }

    public Graph graph(int i) { return graphs.get(i); }

    @Override public String toString() { return "Subgraphs" + indices; }
  }
}
