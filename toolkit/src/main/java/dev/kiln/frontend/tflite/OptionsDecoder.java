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
  // family: elementwise math (ops-eltwise)
  private static final int DIV_OPTIONS = 29;
  private static final int LEAKY_RELU_OPTIONS = 75;
  private static final int GELU_OPTIONS = 116;
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
        requireInput(op, 0, "condition");
        requireInput(op, 1, "x");
        requireInput(op, 2, "y");
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
