package dev.kiln.frontend.tflite;

import dev.kiln.ir.DType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;

/**
 * One decoded TFLite tensor, before the graph assigns it a C name. The op decoder reads shapes and
 * constant values from here; {@link #toBuilder()} hands it to {@code ir}.
 */
record TensorInfo(int index, String name, int[] shape, DType dtype, Quantization quantization, byte[] data,
                  boolean variable, boolean dynamic) {

  TensorInfo(int index, String name, int[] shape, DType dtype, Quantization quantization, byte[] data, boolean variable) {
    this(index, name, shape, dtype, quantization, data, variable, false);
  }

  TensorInfo(int index, String name, int[] shape, DType dtype, Quantization quantization, byte[] data) {
    this(index, name, shape, dtype, quantization, data, false);
  }

  boolean isConstant() { return data != null; }

  int rank() { return shape.length; }

  /** For messages: {@code tensor 'conv/w' (index 3)}. */
  String describe() { return describe(name, index); }

  static String describe(String name, int index) { return "tensor '" + name + "' (index " + index + ")"; }

  Tensor.Builder toBuilder() {
    return Tensor.builder(name).shape(shape).dtype(dtype).quantization(quantization).data(data).variable(variable).dynamicShape(dynamic);
  }
}
