package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;

/**
 * Reads one {@code Tensor} table (format doc 2.3, 2.5): dtype, static shape, quantization and, for
 * constants, its bytes. Everything Kiln cannot compile (dynamic shapes, sparse or external
 * weights, variables, exotic types) is refused here with the tensor named.
 */
final class TensorDecoder {
  // Tensor slots.
  private static final int SHAPE = 0;
  private static final int TYPE = 1;
  private static final int BUFFER = 2;
  private static final int NAME = 3;
  private static final int QUANTIZATION = 4;
  private static final int IS_VARIABLE = 5;
  private static final int SPARSITY = 6;
  private static final int SHAPE_SIGNATURE = 7;
  private static final int EXTERNAL_BUFFER = 10;
  // QuantizationParameters slots.
  private static final int SCALE = 2;
  private static final int ZERO_POINT = 3;
  private static final int DETAILS_TYPE = 4;
  private static final int QUANTIZED_DIMENSION = 6;

  private static final String SUPPORTED_TYPES = "float32, int8, uint8, int16, int32, int64, bool; int4 constants";
  /** TFLite's TensorType INT4: two's-complement nibbles packed two per byte. */
  private static final int INT4 = 17;

  private final FlatBuffer fb;
  private final Buffers buffers;
  private final java.util.List<String> notes = new java.util.ArrayList<>();

  TensorDecoder(FlatBuffer fb, Buffers buffers) {
    this.fb = fb;
    this.buffers = buffers;
  }

  /** What was interpreted rather than read literally, for {@code Graph.notes()}. */
  java.util.List<String> notes() { return java.util.List.copyOf(notes); }

  /**
   * The tensor's name; an unnamed tensor (legal, never written by the converter) gets
   * {@code tensor_<index>} so messages and C names still have something to show.
   */
  static String name(Table tensor, int index) throws ModelFormatException {
    String name = tensor.string(NAME, "name");
    return name == null || name.isEmpty() ? "tensor_" + index : name;
  }

  /** Decodes tensor {@code index}; {@code modelInput} says whether it is one of the subgraph's inputs. */
  TensorInfo decode(Table tensor, int index, boolean modelInput) throws ModelFormatException {
    String name = name(tensor, index);
    String what = TensorInfo.describe(name, index);
    boolean int4 = tensor.int8(TYPE, "type", 0) == INT4;
    DType dtype = int4 ? DType.INT8 : dtype(tensor, what);
    int[] shape = shape(tensor, what, dtype, modelInput);
    boolean dynamic = !modelInput && tensor.int32s(SHAPE_SIGNATURE, "shape_signature").length > 0
        && java.util.Arrays.stream(tensor.int32s(SHAPE_SIGNATURE, "shape_signature")).anyMatch(d -> d == -1);
    boolean variable = tensor.bool(IS_VARIABLE, "is_variable", false);
    if (tensor.has(SPARSITY)) {
      throw error(what + " is a sparse constant; Kiln reads dense weights only (convert the model without sparsity)");
    }
    long external = tensor.uint32(EXTERNAL_BUFFER, "external_buffer");
    if (external != 0) {
      throw error(what + " keeps its weights in an external file (external buffer " + external
          + "); Kiln reads models whose weights are inside the .tflite file");
    }
    Quantization quantization = quantization(tensor, what, shape);
    byte[] data = buffers.data(tensor.uint32(BUFFER, "buffer"), what);
    if (int4) data = unpackInt4(data, shape, what, variable);
    if (data != null) {
      long needed = Shape.elements(shape) * dtype.byteSize();
      if (data.length != needed) {
        throw error(what + " has " + data.length + " bytes of constant data, but shape " + Shape.toString(shape)
            + " of " + dtype + " needs " + needed);
      }
    }
    if (variable) {
      // State kept between runs (SVDF, sequence LSTM): TFLite Micro starts it at zero whatever the
      // buffer holds; Kiln keeps it in a zero-initialized static buffer and refuses other starts.
      if (data != null) {
        for (byte b : data) {
          if (b != 0) {
            throw error(what + " is a variable with a non-zero initial value; Kiln (like TFLite Micro) starts every variable "
                + "at zero");
          }
        }
      }
      return new TensorInfo(index, name, shape, dtype, quantization, null, true);
    }
    return new TensorInfo(index, name, shape, dtype, quantization, data, false, dynamic && data == null);
  }

  /**
   * INT4 weights (TFLite Micro and TFLite unpack them to int8 before their kernels run, UnpackDenseInt4IntoInt8):
   * element 2k is byte k's low nibble, 2k + 1 its high nibble, each sign-extended; the int8 kernels then see the
   * same values. Run-time int4 tensors have no kernel in TFLite Micro and are refused.
   */
  private byte[] unpackInt4(byte[] packed, int[] shape, String what, boolean variable) throws ModelFormatException {
    if (packed == null || variable) {
      throw error(what + " is an INT4 " + (variable ? "variable" : "run-time tensor") + "; Kiln reads INT4 constants "
          + "(packed weights, unpacked to int8 as TFLite Micro does) only");
    }
    long n = Shape.elements(shape);
    if (packed.length != (n + 1) / 2) {
      throw error(what + " has " + packed.length + " bytes of INT4 data, but shape " + Shape.toString(shape) + " packs into "
          + (n + 1) / 2);
    }
    byte[] out = new byte[(int) n];
    for (int i = 0; i < n; i++) {
      int b = packed[i / 2];
      out[i] = (byte) ((i % 2 == 0 ? b << 28 : b << 24) >> 28);
    }
    notes.add(what + " is INT4 (two values per byte); unpacked to int8 at load, as TFLite Micro does before its kernels "
        + "run");
    return out;
  }

  private DType dtype(Table tensor, String what) throws ModelFormatException {
    int code = tensor.int8(TYPE, "type", 0);
    DType dtype = TensorTypes.dtype(code);
    if (dtype == null) {
      throw error(what + " has type " + TensorTypes.name(code) + ", which Kiln does not compile (supported: "
          + SUPPORTED_TYPES + ")");
    }
    return dtype;
  }

  /**
   * The static shape. A -1 in {@code shape} is dynamic and refused; in a model input's
   * {@code shape_signature} only a -1 batch over a stored batch of 1 is accepted (the MLPerf files
   * have it), and the model is compiled with {@code shape}. Other tensors may have any -1 in their
   * signature (Keras writes them where shapes come from run-time values): their stored shape is a
   * guess the compiler re-derives from the inputs.
   */
  private int[] shape(Table tensor, String what, DType dtype, boolean modelInput) throws ModelFormatException {
    int[] shape = tensor.int32s(SHAPE, "shape");
    for (int d : shape) {
      if (d < 0) {
        throw error(what + " has a dynamic shape " + Shape.toString(shape)
            + "; Kiln compiles static shapes only (fix the input shape before converting)");
      }
    }
    int[] signature = tensor.int32s(SHAPE_SIGNATURE, "shape_signature");
    for (int i = 0; i < signature.length && modelInput; i++) {
      if (signature[i] != -1) continue;
      boolean batchOfOne = i == 0 && shape.length > 0 && shape[0] == 1;
      if (!batchOfOne) {
        throw error(what + " has a dynamic dimension " + i + " (shape signature " + Shape.toString(signature)
            + ", shape " + Shape.toString(shape) + "); Kiln compiles static shapes only, with at most a dynamic batch of 1");
      }
    }
    long bytes = dtype.byteSize();
    for (int d : shape) {
      bytes *= d;
      if (bytes > Integer.MAX_VALUE) {
        throw error(what + " has shape " + Shape.toString(shape) + ", over 2 GiB of " + dtype + "; Kiln cannot hold it");
      }
    }
    return shape;
  }

  /** Quantized iff {@code scale} is present and non-empty; more than one scale means per-axis. */
  private Quantization quantization(Table tensor, String what, int[] shape) throws ModelFormatException {
    Table q = tensor.table(QUANTIZATION, "quantization", "QuantizationParameters");
    if (q == null) return Quantization.NONE;
    int details = q.uint8(DETAILS_TYPE, "details_type");
    if (details != 0) {
      throw error(what + " uses custom quantization (details type " + details + "); Kiln supports affine scale/zero-point quantization only");
    }
    float[] scales = q.float32s(SCALE, "scale");
    if (scales.length == 0) return Quantization.NONE;
    long[] zeroPoints = q.int64s(ZERO_POINT, "zero_point");
    if (zeroPoints.length != scales.length) {
      throw error(what + " has " + scales.length + " quantization scales but " + zeroPoints.length
          + " zero points; they must be equally many");
    }
    if (scales.length == 1) return Quantization.perTensor(scales[0], zeroPoints[0]);
    int axis = q.int32(QUANTIZED_DIMENSION, "quantized_dimension", 0);
    if (shape.length == 1 && shape[0] == scales.length && axis != 0) {
      // person_detect (TFLite Micro's example) writes its conv biases this way: TFLM never validates
      // quantized_dimension (its kernels read a bias's scales, if at all, by output channel), so
      // the only meaning a per-channel rank-1 tensor can have is along its one dimension.
      notes.add(what + " is quantized per channel along dimension " + axis + ", but it has rank 1 (shape "
          + Shape.toString(shape) + "); read as dimension 0, as TFLite Micro does");
      axis = 0;
    }
    if (axis < 0 || axis >= shape.length) {
      throw error(what + " is quantized along dimension " + axis + ", but its shape " + Shape.toString(shape) + " has rank " + shape.length);
    }
    if (shape[axis] != scales.length) {
      throw error(what + " has " + scales.length + " per-channel scales along dimension " + axis
          + ", but its shape " + Shape.toString(shape) + " has " + shape[axis] + " entries there");
    }
    return Quantization.perAxis(scales, zeroPoints, axis);
  }

  private ModelFormatException error(String problem) {
    return new ModelFormatException(fb.file(), problem);
  }
}
