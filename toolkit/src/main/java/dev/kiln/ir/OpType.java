package dev.kiln.ir;

/** Operators Kiln compiles. Frontends map their own operator names onto these. */
public enum OpType {
  CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, SOFTMAX,
  ADD, MUL, SUB, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6, PAD, MEAN,
  /** A permutation of the axes (ONNX Transpose; layout changes at the model boundary). */
  TRANSPOSE,
  /** min(max(x, min), max) with arbitrary bounds (ONNX Clip that is not a RELU or RELU6). */
  CLAMP,
  // family: heavy NN operators (ops-nn2)
  /** TFLite TRANSPOSE_CONV: inputs (output shape, filter [Cout, KH, KW, Cin], input, optional bias). */
  TRANSPOSE_CONV,
  /** TFLite BATCH_MATMUL: a matrix product over the last two axes, batch axes broadcast. */
  BATCH_MATMUL,
  /** TFLite SVDF: a rank-decomposed time filter over a state variable. */
  SVDF,
  /** TFLite UNIDIRECTIONAL_SEQUENCE_LSTM: an LSTM over a sequence, its h and c in state variables. */
  UNIDIRECTIONAL_SEQUENCE_LSTM;

  /** True for ops whose output is only a new view of the input's bytes. */
  public boolean isView() { return this == RESHAPE; }
}
