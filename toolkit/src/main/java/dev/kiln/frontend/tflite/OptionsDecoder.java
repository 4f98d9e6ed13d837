package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a supported operator's builtin options (format doc 4) and, for PAD and MEAN, its constant
 * inputs into an {@code ir} {@link Options} record. Absent fields take the schema defaults; an
 * absent options table reads as all defaults, as in the TFLite runtime. SAME/VALID padding is
 * resolved here against the input and the model's output shapes, so later stages never see it.
 */
final class OptionsDecoder {
  // BuiltinOptions union tags.
  private static final int CONV_2D_OPTIONS = 1;
  private static final int DEPTHWISE_CONV_2D_OPTIONS = 2;
  private static final int POOL_2D_OPTIONS = 5;
  private static final int FULLY_CONNECTED_OPTIONS = 8;
  private static final int SOFTMAX_OPTIONS = 9;
  private static final int CONCATENATION_OPTIONS = 10;
  private static final int ADD_OPTIONS = 11;
  private static final int MUL_OPTIONS = 21;
  private static final int REDUCER_OPTIONS = 27;
  private static final int SUB_OPTIONS = 28;
  // family: heavy NN operators (ops-nn2)
  private static final int TRANSPOSE_CONV_OPTIONS = 49;
  private static final int BATCH_MATMUL_OPTIONS = 101;
  // family: elementwise math (ops-eltwise)
  private static final int DIV_OPTIONS = 29;
  private static final int LEAKY_RELU_OPTIONS = 75;
  private static final int GELU_OPTIONS = 116;
  private static final int SVDF_OPTIONS = 6;
  private static final int SEQUENCE_LSTM_OPTIONS = 71;
  // Operator slots.
  private static final int BUILTIN_OPTIONS_TYPE = 3;
  private static final int BUILTIN_OPTIONS = 4;

  private final FlatBuffer fb;
  private final List<TensorInfo> tensors;

  OptionsDecoder(FlatBuffer fb, List<TensorInfo> tensors) {
    this.fb = fb;
    this.tensors = tensors;
  }

  Options decode(Operator op, OpType type) throws ModelFormatException {
    switch (type) {
      case CONV_2D: return conv(op, options(op, CONV_2D_OPTIONS, "Conv2DOptions"), false);
      case DEPTHWISE_CONV_2D: return conv(op, options(op, DEPTHWISE_CONV_2D_OPTIONS, "DepthwiseConv2DOptions"), true);
      case MAX_POOL_2D:
      case AVERAGE_POOL_2D: return pool(op, options(op, POOL_2D_OPTIONS, "Pool2DOptions"));
      case FULLY_CONNECTED: return fullyConnected(op, options(op, FULLY_CONNECTED_OPTIONS, "FullyConnectedOptions"));
      case SOFTMAX: return softmax(op, options(op, SOFTMAX_OPTIONS, "SoftmaxOptions"));
      case ADD: return addSub(op, options(op, ADD_OPTIONS, "AddOptions"));
      case SUB: return addSub(op, options(op, SUB_OPTIONS, "SubOptions"));
      case MUL: return elementwise(op, options(op, MUL_OPTIONS, "MulOptions"));
      case CONCATENATION: return concat(op, options(op, CONCATENATION_OPTIONS, "ConcatenationOptions"));
      case PAD: return pad(op);
      case MEAN: return mean(op, options(op, REDUCER_OPTIONS, "ReducerOptions"));
      // family: heavy NN operators (ops-nn2)
      case TRANSPOSE_CONV: return transposeConv(op, options(op, TRANSPOSE_CONV_OPTIONS, "TransposeConvOptions"));
      case BATCH_MATMUL: return batchMatMul(op, options(op, BATCH_MATMUL_OPTIONS, "BatchMatMulOptions"));
      // family: reductions, resampling, spatial (ops-reduce)
      case SUM:
      case REDUCE_MAX:
      case REDUCE_MIN:
      case REDUCE_ALL: return mean(op, options(op, REDUCER_OPTIONS, "ReducerOptions"));
      // family: dtypes (tfl-dtypes)
      case REDUCE_PROD: return mean(op, options(op, REDUCER_OPTIONS, "ReducerOptions"));
      case ARG_MAX:
      case ARG_MIN: return argMinMax(op);
      case CUMSUM: return cumsum(op, options(op, 102, "CumsumOptions"));
      case RESIZE_BILINEAR: return resize(op, options(op, 15, "ResizeBilinearOptions"), 2);
      case RESIZE_NEAREST_NEIGHBOR: return resize(op, options(op, 74, "ResizeNearestNeighborOptions"), 0);
      case DEPTH_TO_SPACE: return blockSize(op, options(op, 94, "DepthToSpaceOptions"));
      case SPACE_TO_DEPTH: return blockSize(op, options(op, 19, "SpaceToDepthOptions"));
      case SPACE_TO_BATCH_ND: return spaceBatch(op, "paddings");
      case BATCH_TO_SPACE_ND: return spaceBatch(op, "crops");
      case MIRROR_PAD: return mirrorPad(op, options(op, 77, "MirrorPadOptions"));
      case PADV2:
        requireInput(op, 2, "constant_values");
        return pad(op);
      case L2_NORMALIZATION:
        requireInput(op, 0, "input");
        return new Options.L2Norm(activation(op, int8(options(op, 12, "L2NormOptions"), 0, "fused_activation_function", 0)));
      case L2_POOL_2D: return pool(op, options(op, POOL_2D_OPTIONS, "Pool2DOptions"));
      case LOCAL_RESPONSE_NORMALIZATION: return lrn(op, options(op, 13, "LocalResponseNormalizationOptions"));
      case SVDF: return svdf(op, options(op, SVDF_OPTIONS, "SVDFOptions"));
      case UNIDIRECTIONAL_SEQUENCE_LSTM:
        return sequenceLstm(op, options(op, SEQUENCE_LSTM_OPTIONS, "UnidirectionalSequenceLSTMOptions"));
      case RESHAPE: // the output tensor's shape is authoritative; ReshapeOptions.new_shape is ignored
      case QUANTIZE:
      case DEQUANTIZE:
      case LOGISTIC:
      case TANH:
      case RELU:
      case RELU6:
        requireInput(op, 0, "input");
        return new Options.None();
      // family: elementwise math (ops-eltwise): DIV has a fused activation, LEAKY_RELU an alpha, GELU a flag;
      // the others have no options that matter (CastOptions repeats the tensor types, the tensors decide).
      case DIV: return elementwise(op, options(op, DIV_OPTIONS, "DivOptions"));
      case LEAKY_RELU: {
        requireInput(op, 0, "input");
        Table o = options(op, LEAKY_RELU_OPTIONS, "LeakyReluOptions");
        return new Options.LeakyRelu(o == null ? 0f : o.float32(0, "alpha", 0f));
      }
      case GELU: {
        requireInput(op, 0, "input");
        return new Options.Gelu(bool(options(op, GELU_OPTIONS, "GeluOptions"), 0, "approximate"));
      }
      case ABS: case NEG: case SQRT: case RSQRT: case SQUARE: case EXP: case LOG: case SIN: case COS: case CEIL:
      case FLOOR: case ROUND: case LOGICAL_NOT: case CAST: case ELU: case HARD_SWISH: case RELU_N1_TO_1:
      case LOG_SOFTMAX: case ZEROS_LIKE: case ADD_N:
        requireInput(op, 0, "input");
        return new Options.None();
      case FLOOR_DIV: case FLOOR_MOD: case POW: case SQUARED_DIFFERENCE: case MAXIMUM: case MINIMUM: case EQUAL:
      case NOT_EQUAL: case GREATER: case GREATER_EQUAL: case LESS: case LESS_EQUAL: case LOGICAL_AND: case LOGICAL_OR:
      case PRELU:
        requireInput(op, 0, "first input");
        requireInput(op, 1, "second input");
        return new Options.None();
      case FILL:
        requireInput(op, 0, "dims");
        requireInput(op, 1, "value");
        return new Options.None();
      case SELECT_V2:
        // SelectV2Options (98) is an empty table: the converter writes it or no options at all
        requireInput(op, 0, "condition");
        requireInput(op, 1, "x");
        requireInput(op, 2, "y");
        options(op, 98, "SelectV2Options");
        return new Options.None();
      // family: data movement (ops-movement): index and size inputs stay inputs; the compiler reads
      // them after constant folding (SHAPE -> STRIDED_SLICE -> PACK chains become constants there).
      case STRIDED_SLICE: return stridedSlice(op, options(op, 32, "StridedSliceOptions"));
      case PACK: return new Options.Axis(axisIn(op, int32(options(op, 59, "PackOptions"), 1, "axis", 0), output(op).rank()));
      case UNPACK: return new Options.Axis(axisIn(op, int32(options(op, 64, "UnpackOptions"), 1, "axis", 0), requireInput(op, 0, "input").rank()));
      case GATHER: {
        Table o = options(op, 23, "GatherOptions");
        TensorInfo params = requireInput(op, 0, "params");
        requireInput(op, 1, "indices");
        return new Options.Gather(axisIn(op, int32(o, 0, "axis", 0), params.rank()), int32(o, 1, "batch_dims", 0));
      }
      case TRANSPOSE: {
        TensorInfo in = requireInput(op, 0, "input");
        long[] perm = integers(constantIntegers(op, requireInput(op, 1, "perm"), "perm"));
        int[] p = new int[perm.length];
        for (int i = 0; i < p.length; i++) p[i] = (int) (perm[i] < 0 ? perm[i] + in.rank() : perm[i]);
        return new Options.Transpose(p);
      }
      case SLICE: case SPLIT: case SPLIT_V: case GATHER_ND: case TILE: case BROADCAST_TO: case BROADCAST_ARGS:
      case REVERSE_V2: case EXPAND_DIMS: case SQUEEZE: case SHAPE: case DYNAMIC_UPDATE_SLICE: case EMBEDDING_LOOKUP:
        requireInput(op, 0, "input");
        output(op);
        return new Options.None();
      default:
        throw new IllegalStateException("no options decoder for " + type);
    }
  }

  // Conv2DOptions: padding, stride_w, stride_h, activation, dilation_w, dilation_h.
  // DepthwiseConv2DOptions: the same with depth_multiplier (ignored: derived from shapes) at slot 3.
  private Options conv(Operator op, Table o, boolean depthwise) throws ModelFormatException {
    int shift = depthwise ? 1 : 0;
    int padding = paddingEnum(op, int8(o, 0, "padding", WindowPadding.SAME));
    int strideW = positive(op, "stride_w", int32(o, 1, "stride_w", 0));
    int strideH = positive(op, "stride_h", int32(o, 2, "stride_h", 0));
    Activation act = activation(op, int8(o, 3 + shift, "fused_activation_function", 0));
    int dilationW = positive(op, "dilation_w_factor", int32(o, 4 + shift, "dilation_w_factor", 1));
    int dilationH = positive(op, "dilation_h_factor", int32(o, 5 + shift, "dilation_h_factor", 1));
    TensorInfo input = rank4(op, requireInput(op, 0, "input"));
    TensorInfo filter = rank4(op, requireInput(op, 1, "filter"));
    TensorInfo output = rank4(op, output(op));
    Options.Padding pad = padding(op, padding, input, output, filter.shape()[1], filter.shape()[2],
        strideH, strideW, dilationH, dilationW);
    int multiplier = 1;
    if (depthwise) {
      int in = input.shape()[3];
      int out = output.shape()[3];
      if (in == 0 || out % in != 0) {
        throw error(op, "output channels (" + out + ") are not a multiple of input channels (" + in + ")");
      }
      multiplier = out / in;
    }
    return new Options.Conv(strideH, strideW, dilationH, dilationW, pad, multiplier, act);
  }

  // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, activation.
  private Options pool(Operator op, Table o) throws ModelFormatException {
    int padding = paddingEnum(op, int8(o, 0, "padding", WindowPadding.SAME));
    int strideW = positive(op, "stride_w", int32(o, 1, "stride_w", 0));
    int strideH = positive(op, "stride_h", int32(o, 2, "stride_h", 0));
    int filterW = positive(op, "filter_width", int32(o, 3, "filter_width", 0));
    int filterH = positive(op, "filter_height", int32(o, 4, "filter_height", 0));
    Activation act = activation(op, int8(o, 5, "fused_activation_function", 0));
    TensorInfo input = rank4(op, requireInput(op, 0, "input"));
    TensorInfo output = rank4(op, output(op));
    Options.Padding pad = padding(op, padding, input, output, filterH, filterW, strideH, strideW, 1, 1);
    return new Options.Pool(filterH, filterW, strideH, strideW, pad, act);
  }

  // FullyConnectedOptions: activation, weights_format, keep_num_dims.
  private Options fullyConnected(Operator op, Table o) throws ModelFormatException {
    Activation act = activation(op, int8(o, 0, "fused_activation_function", 0));
    int format = int8(o, 1, "weights_format", 0);
    if (format != 0) {
      throw error(op, "uses weights_format " + format + (format == 1 ? " (SHUFFLED4x16INT8)" : "")
          + "; Kiln supports only the DEFAULT (0) weights layout");
    }
    requireInput(op, 0, "input");
    requireInput(op, 1, "weights");
    return new Options.FullyConnected(act, bool(o, 2, "keep_num_dims"), bool(o, 3, "asymmetric_quantize_inputs"));
  }

  // SoftmaxOptions: beta. The schema default 0.0 would flatten every output; converters always write it.
  private Options softmax(Operator op, Table o) throws ModelFormatException {
    if (o == null || !o.has(0)) {
      throw error(op, "has no beta in its SoftmaxOptions; a SOFTMAX without beta is a malformed model");
    }
    requireInput(op, 0, "input");
    return new Options.Softmax(o.float32(0, "beta", 0f));
  }

  // AddOptions / SubOptions / MulOptions: activation first (pot_scale_int16 is an int16 kernel detail).
  private Options elementwise(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "first input");
    requireInput(op, 1, "second input");
    return new Options.Elementwise(activation(op, int8(o, 0, "fused_activation_function", 0)));
  }

  // AddOptions / SubOptions: activation, pot_scale_int16 (schema default true; it matters for int16 only).
  private Options addSub(Operator op, Table o) throws ModelFormatException {
    Options.Elementwise e = (Options.Elementwise) elementwise(op, o);
    boolean pot = o == null || o.bool(1, "pot_scale_int16", true);
    return new Options.Elementwise(e.activation(), pot && output(op).dtype() == DType.INT16);
  }

  // ConcatenationOptions: axis (may be negative), activation.
  private Options concat(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "input");
    int rank = output(op).rank();
    int axis = int32(o, 0, "axis", 0);
    int normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank) {
      throw error(op, "has axis " + axis + ", outside the output's rank " + rank);
    }
    return new Options.Concat(normalized, activation(op, int8(o, 1, "fused_activation_function", 0)));
  }

  /** PAD: befores and afters from the constant [rank, 2] paddings input, which stays input 1. */
  private Options pad(Operator op) throws ModelFormatException {
    TensorInfo input = requireInput(op, 0, "input");
    TensorInfo paddings = constantIntegers(op, requireInput(op, 1, "paddings"), "paddings");
    int rank = input.rank();
    if (!Arrays.equals(paddings.shape(), new int[] {rank, 2})) {
      throw error(op, "has paddings of shape " + Shape.toString(paddings.shape()) + "; the input has rank " + rank
          + ", so they must be [" + rank + ",2]");
    }
    long[] values = integers(paddings);
    TensorInfo output = output(op);
    int[] before = new int[rank];
    int[] after = new int[rank];
    for (int d = 0; d < rank; d++) {
      long b = values[2 * d];
      long a = values[2 * d + 1];
      if (b < 0 || a < 0) throw error(op, "has a negative padding (" + b + ", " + a + ") in dimension " + d);
      long expected = input.shape()[d] + b + a;
      if (output.rank() != rank || output.shape()[d] != expected) {
        throw error(op, "output shape " + Shape.toString(output.shape()) + " does not match input "
            + Shape.toString(input.shape()) + " padded by " + Arrays.toString(values));
      }
      before[d] = (int) b;
      after[d] = (int) a;
    }
    return new Options.Pad(before, after);
  }

  /** MEAN: axes from the constant input 1 (kept as input), made non-negative, sorted, unique. */
  private Options mean(Operator op, Table o) throws ModelFormatException {
    TensorInfo input = requireInput(op, 0, "input");
    TensorInfo axesTensor = constantIntegers(op, requireInput(op, 1, "axes"), "axes");
    if (axesTensor.rank() > 1) {
      throw error(op, "has axes of shape " + Shape.toString(axesTensor.shape()) + "; expected a scalar or a vector");
    }
    int rank = input.rank();
    long[] raw = integers(axesTensor);
    int[] axes = new int[raw.length];
    for (int i = 0; i < raw.length; i++) {
      long a = raw[i] < 0 ? raw[i] + rank : raw[i];
      if (a < 0 || a >= rank) throw error(op, "reduces axis " + raw[i] + ", outside the input's rank " + rank);
      axes[i] = (int) a;
    }
    return new Options.Mean(Arrays.stream(axes).sorted().distinct().toArray(), bool(o, 0, "keep_dims"));
  }

  // family: heavy NN operators (ops-nn2)
  // TransposeConvOptions: padding, stride_w, stride_h, fused_activation_function (quantized_bias_type is implied
  // by the bias tensor's type). Inputs: output shape (constant), filter [Cout, KH, KW, Cin], input, optional bias.
  // TFLite derives the padding from the OUTPUT size as if it were a forward conv's input
  // (ComputePaddingHeightWidth(stride, 1, out_h, out_w, KH, KW)), whatever the input size is.
  private Options transposeConv(Operator op, Table o) throws ModelFormatException {
    int padding = paddingEnum(op, int8(o, 0, "padding", WindowPadding.SAME));
    int strideW = positive(op, "stride_w", int32(o, 1, "stride_w", 0));
    int strideH = positive(op, "stride_h", int32(o, 2, "stride_h", 0));
    Activation act = activation(op, int8(o, 3, "fused_activation_function", 0));
    TensorInfo shapeInput = requireInput(op, 0, "output shape");
    TensorInfo filter = rank4(op, requireInput(op, 1, "filter"));
    rank4(op, requireInput(op, 2, "input"));
    TensorInfo output = rank4(op, output(op));
    // Keras computes the output shape at run time (SHAPE -> STRIDED_SLICE -> PACK), which folding makes
    // constant; until then the output tensor's shape stands (the compiler re-derives it if the model marks it dynamic)
    boolean computed = !shapeInput.isConstant() && (shapeInput.dtype() == DType.INT32 || shapeInput.dtype() == DType.INT64);
    long[] declared = computed ? Arrays.stream(output.shape()).asLongStream().toArray()
        : integers(constantIntegers(op, shapeInput, "output shape"));
    if (declared.length != 4 || declared[0] != output.shape()[0] || declared[1] != output.shape()[1]
        || declared[2] != output.shape()[2] || declared[3] != output.shape()[3]) {
      throw error(op, "has output shape input " + Arrays.toString(declared) + " but its output tensor has shape "
          + Shape.toString(output.shape()) + "; Kiln needs them equal (static shapes)");
    }
    int top = transposePad(op, padding, output.shape()[1], filter.shape()[1], strideH);
    int left = transposePad(op, padding, output.shape()[2], filter.shape()[2], strideW);
    return new Options.TransposeConv(strideH, strideW, new Options.Padding(top, left, 0, 0), act);
  }

  private int transposePad(Operator op, int padding, int out, int kernel, int stride) throws ModelFormatException {
    if (kernel <= 0) throw error(op, "has a filter of size " + kernel);
    long convOut = WindowPadding.expectedOut(padding, out, kernel, stride, 1);
    long total = Math.max(0, (convOut - 1) * stride + kernel - out);
    return (int) (total / 2);
  }

  // SVDFOptions: rank, fused_activation_function, asymmetric_quantize_inputs (hybrid only).
  private Options svdf(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "input");
    requireInput(op, 4, "activation state");
    int rank = positive(op, "rank", int32(o, 0, "rank", 0));
    return new Options.Svdf(rank, activation(op, int8(o, 1, "fused_activation_function", 0)));
  }

  // UnidirectionalSequenceLSTMOptions: fused_activation_function, cell_clip, proj_clip, time_major,
  // asymmetric_quantize_inputs (hybrid only), diagonal_recurrent_tensors.
  private Options sequenceLstm(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "input");
    if (op.inputs().length < 20) {
      throw error(op, "has " + op.inputs().length + " inputs; a UNIDIRECTIONAL_SEQUENCE_LSTM has 20 or 24");
    }
    if (bool(o, 5, "diagonal_recurrent_tensors")) {
      throw error(op, "uses diagonal_recurrent_tensors; Kiln compiles full recurrent weight matrices only");
    }
    float cellClip = o == null ? 0f : o.float32(1, "cell_clip", 0f);
    float projClip = o == null ? 0f : o.float32(2, "proj_clip", 0f);
    // family: int8 LSTM (lstm-int8): Operator.intermediates (slot 8), whose scales the full-integer LSTM uses
    java.util.List<dev.kiln.ir.Quantization> intermediates = new java.util.ArrayList<>();
    for (int i : op.table().int32s(8, "intermediates")) {
      if (i < 0 || i >= tensors.size()) throw error(op, "has intermediate tensor " + i + ", out of range");
      intermediates.add(tensors.get(i).quantization());
    }
    return new Options.SequenceLstm(activation(op, int8(o, 0, "fused_activation_function", 0)), cellClip, projClip,
        bool(o, 3, "time_major"), intermediates);
  }

  // BatchMatMulOptions: adj_x, adj_y, asymmetric_quantize_inputs (hybrid only).
  private Options batchMatMul(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "x");
    requireInput(op, 1, "y");
    return new Options.BatchMatMul(bool(o, 0, "adj_x"), bool(o, 1, "adj_y"));
  }

  // family: data movement (ops-movement)
  // StridedSliceOptions: begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset.
  private Options stridedSlice(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "input");
    requireInput(op, 1, "begin");
    requireInput(op, 2, "end");
    return new Options.StridedSlice(int32(o, 0, "begin_mask", 0), int32(o, 1, "end_mask", 0), int32(o, 2, "ellipsis_mask", 0),
        int32(o, 3, "new_axis_mask", 0), int32(o, 4, "shrink_axis_mask", 0), bool(o, 5, "offset"));
  }

  /** An axis in [-rank, rank) made non-negative. */
  private int axisIn(Operator op, int axis, int rank) throws ModelFormatException {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= Math.max(rank, 1)) throw error(op, "has axis " + axis + ", outside rank " + rank);
    return a;
  }

  // family: reductions, resampling, spatial (ops-reduce)

  /** One axis from the constant scalar (or 1-element) input 1, made non-negative against the input's rank. */
  private int constantAxis(Operator op, String role) throws ModelFormatException {
    TensorInfo input = requireInput(op, 0, "input");
    TensorInfo axisTensor = constantIntegers(op, requireInput(op, 1, role), role);
    long[] raw = integers(axisTensor);
    if (raw.length != 1) {
      throw error(op, "has " + role + " of shape " + Shape.toString(axisTensor.shape()) + "; expected a single axis");
    }
    long a = raw[0] < 0 ? raw[0] + input.rank() : raw[0];
    if (a < 0 || a >= input.rank()) throw error(op, "has " + role + " " + raw[0] + ", outside the input's rank " + input.rank());
    return (int) a;
  }

  // ArgMaxOptions / ArgMinOptions hold only output_type, which the output tensor's dtype already says.
  private Options argMinMax(Operator op) throws ModelFormatException {
    return new Options.ArgMinMax(constantAxis(op, "axis"));
  }

  // CumsumOptions: exclusive, reverse.
  private Options cumsum(Operator op, Table o) throws ModelFormatException {
    return new Options.Cumsum(constantAxis(op, "axis"), bool(o, 0, "exclusive"), bool(o, 1, "reverse"));
  }

  // ResizeBilinearOptions: new_height, new_width (deprecated), align_corners, half_pixel_centers;
  // ResizeNearestNeighborOptions: align_corners, half_pixel_centers. The size input must agree with the output.
  private Options resize(Operator op, Table o, int firstSlot) throws ModelFormatException {
    TensorInfo input = rank4(op, requireInput(op, 0, "input"));
    TensorInfo size = requireInput(op, 1, "size");
    TensorInfo output = rank4(op, output(op));
    if (size.isConstant()) {
      long[] hw = integers(constantIntegers(op, size, "size"));
      if (hw.length != 2 || hw[0] != output.shape()[1] || hw[1] != output.shape()[2]) {
        throw error(op, "has size " + Arrays.toString(hw) + " but output shape " + Shape.toString(output.shape()));
      }
    }
    if (input.shape()[0] != output.shape()[0] || input.shape()[3] != output.shape()[3]) {
      throw error(op, "output " + Shape.toString(output.shape()) + " must keep the batch and channels of " + Shape.toString(input.shape()));
    }
    boolean align = bool(o, firstSlot, "align_corners");
    boolean half = bool(o, firstSlot + 1, "half_pixel_centers");
    if (align && half) throw error(op, "sets both align_corners and half_pixel_centers, which TFLite rejects");
    return new Options.Resize(align, half);
  }

  // DepthToSpaceOptions / SpaceToDepthOptions: block_size.
  private Options blockSize(Operator op, Table o) throws ModelFormatException {
    rank4(op, requireInput(op, 0, "input"));
    rank4(op, output(op));
    return new Options.BlockSize(positive(op, "block_size", int32(o, 0, "block_size", 0)));
  }

  /** SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: constant block_shape [M] and paddings or crops [M, 2]. */
  private Options spaceBatch(Operator op, String role) throws ModelFormatException {
    TensorInfo input = requireInput(op, 0, "input");
    long[] block = integers(constantIntegers(op, requireInput(op, 1, "block_shape"), "block_shape"));
    TensorInfo pads = constantIntegers(op, requireInput(op, 2, role), role);
    int m = block.length;
    if (!Arrays.equals(pads.shape(), new int[] {m, 2})) {
      throw error(op, "has " + role + " of shape " + Shape.toString(pads.shape()) + "; block_shape has " + m
          + " entries, so they must be [" + m + ",2]");
    }
    if (m < 1 || m + 2 > input.rank()) {
      throw error(op, "has " + m + " block dimensions for an input of rank " + input.rank());
    }
    long[] p = integers(pads);
    int[] b = new int[m];
    int[] before = new int[m];
    int[] after = new int[m];
    for (int i = 0; i < m; i++) {
      if (block[i] < 1) throw error(op, "has block_shape " + Arrays.toString(block) + "; every entry must be >= 1");
      if (p[2 * i] < 0 || p[2 * i + 1] < 0) throw error(op, "has a negative " + role + " entry " + Arrays.toString(p));
      b[i] = (int) block[i];
      before[i] = (int) p[2 * i];
      after[i] = (int) p[2 * i + 1];
    }
    return new Options.SpaceBatch(b, before, after);
  }

  // MirrorPadOptions: mode (0 REFLECT, 1 SYMMETRIC); paddings as for PAD.
  private Options mirrorPad(Operator op, Table o) throws ModelFormatException {
    int mode = int8(o, 0, "mode", 0);
    if (mode != 0 && mode != 1) throw error(op, "has mirror pad mode " + mode + ", expected 0 (REFLECT) or 1 (SYMMETRIC)");
    Options.Pad p = (Options.Pad) pad(op);
    return new Options.MirrorPad(p.before(), p.after(), mode == 1);
  }

  // LocalResponseNormalizationOptions: radius, bias, alpha, beta.
  private Options lrn(Operator op, Table o) throws ModelFormatException {
    requireInput(op, 0, "input");
    int radius = int32(o, 0, "radius", 0);
    if (radius < 0) throw error(op, "has radius " + radius + " (must be >= 0)");
    return new Options.Lrn(radius, o == null ? 0f : o.float32(1, "bias", 0f), o == null ? 0f : o.float32(2, "alpha", 0f),
        o == null ? 0f : o.float32(3, "beta", 0f));
  }

  private Options.Padding padding(Operator op, int padding, TensorInfo input, TensorInfo output, int kernelH, int kernelW,
      int strideH, int strideW, int dilationH, int dilationW) throws ModelFormatException {
    WindowPadding h = axis(op, "height", padding, input.shape()[1], output.shape()[1], kernelH, strideH, dilationH);
    WindowPadding w = axis(op, "width", padding, input.shape()[2], output.shape()[2], kernelW, strideW, dilationW);
    return new Options.Padding(h.before, w.before, h.after, w.after);
  }

  private WindowPadding axis(Operator op, String axis, int padding, int in, int out, int kernel, int stride, int dilation)
      throws ModelFormatException {
    if (kernel <= 0) throw error(op, "has a filter " + axis + " of " + kernel);
    if (WindowPadding.effectiveKernel(kernel, dilation) > Integer.MAX_VALUE) {
      throw error(op, "has a dilated filter " + axis + " over 2^31 (filter " + kernel + ", dilation " + dilation + ")");
    }
    WindowPadding p = WindowPadding.check(padding, in, out, kernel, stride, dilation);
    if (p == null) {
      String mode = padding == WindowPadding.SAME ? "SAME" : "VALID";
      throw error(op, "output " + axis + " " + out + " does not match " + mode + " padding: input " + axis + " " + in
          + ", filter " + kernel + ", stride " + stride + ", dilation " + dilation + " give "
          + WindowPadding.expectedOut(padding, in, kernel, stride, dilation));
    }
    return p;
  }

  /** The options table if its union tag is the expected one; null (all defaults) when absent. */
  // family: control flow (ctrl-flow)
  /**
   * The subgraph indices a WHILE (cond, body), IF (then, else) or CALL_ONCE (init) runs, from its
   * WhileOptions (93), IfOptions (92) or CallOnceOptions (103); null for every other operator.
   */
  int[] subgraphIndices(Operator op, OpType type) throws ModelFormatException {
    int tag;
    String name;
    int count;
    switch (type) {
      case WHILE: tag = 93; name = "WhileOptions"; count = 2; break;
      case IF: tag = 92; name = "IfOptions"; count = 2; break;
      case CALL_ONCE: tag = 103; name = "CallOnceOptions"; count = 1; break;
      default: return null;
    }
    int actual = op.table().uint8(BUILTIN_OPTIONS_TYPE, "builtin_options_type");
    if (actual != tag) {
      throw error(op, "carries builtin options of union type " + actual + ", expected " + tag + " (" + name
          + "), which names the subgraphs it runs");
    }
    Table o = op.table().table(BUILTIN_OPTIONS, "builtin_options", name);
    int[] indices = new int[count];
    for (int i = 0; i < count; i++) indices[i] = o == null ? 0 : o.int32(i, "subgraph_index", 0);
    return indices;
  }

  private Table options(Operator op, int expectedType, String expectedName) throws ModelFormatException {
    int type = op.table().uint8(BUILTIN_OPTIONS_TYPE, "builtin_options_type");
    if (type == 0) return null;
    if (type != expectedType) {
      throw error(op, "carries builtin options of union type " + type + ", expected " + expectedType + " (" + expectedName + ")");
    }
    return op.table().table(BUILTIN_OPTIONS, "builtin_options", expectedName);
  }

  private TensorInfo requireInput(Operator op, int i, String role) throws ModelFormatException {
    if (i >= op.inputs().length || op.inputs()[i] < 0) {
      throw error(op, "has no input " + i + " (" + role + ")");
    }
    return tensors.get(op.inputs()[i]);
  }

  private TensorInfo output(Operator op) throws ModelFormatException {
    if (op.outputs().length == 0) throw error(op, "has no outputs");
    return tensors.get(op.outputs()[0]);
  }

  private TensorInfo rank4(Operator op, TensorInfo t) throws ModelFormatException {
    if (t.rank() != 4) throw error(op, "needs 4-D (NHWC) tensors, but " + t.describe() + " has shape " + Shape.toString(t.shape()));
    return t;
  }

  private TensorInfo constantIntegers(Operator op, TensorInfo t, String role) throws ModelFormatException {
    if (!t.isConstant()) {
      throw error(op, "reads its " + role + " from " + t.describe() + ", which is not a constant; Kiln needs constant " + role);
    }
    if (t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
      throw error(op, "has " + role + " " + t.describe() + " of type " + t.dtype() + "; expected int32 or int64");
    }
    return t;
  }

  private static long[] integers(TensorInfo t) {
    ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    int size = t.dtype().byteSize();
    long[] out = new long[t.data().length / size];
    for (int i = 0; i < out.length; i++) out[i] = size == 8 ? b.getLong(i * 8) : b.getInt(i * 4);
    return out;
  }

  private int paddingEnum(Operator op, int value) throws ModelFormatException {
    if (value != WindowPadding.SAME && value != WindowPadding.VALID) {
      throw error(op, "has padding " + value + ", expected 0 (SAME) or 1 (VALID)");
    }
    return value;
  }

  private Activation activation(Operator op, int value) throws ModelFormatException {
    Activation[] all = Activation.values();
    if (value < 0 || value >= all.length) {
      throw error(op, "has fused activation " + value + ", not one of " + Arrays.toString(all) + " (0.." + (all.length - 1) + ")");
    }
    return all[value];
  }

  private int positive(Operator op, String field, int value) throws ModelFormatException {
    if (value < 1) throw error(op, "has " + field + " " + value + " (must be at least 1)");
    return value;
  }

  private static int int8(Table o, int slot, String field, int dflt) throws ModelFormatException {
    return o == null ? dflt : o.int8(slot, field, dflt);
  }

  private static int int32(Table o, int slot, String field, int dflt) throws ModelFormatException {
    return o == null ? dflt : o.int32(slot, field, dflt);
  }

  private static boolean bool(Table o, int slot, String field) throws ModelFormatException {
    return o != null && o.bool(slot, field, false);
  }

  private ModelFormatException error(Operator op, String problem) {
    return new ModelFormatException(fb.file(), op.label() + " " + problem);
  }
}
