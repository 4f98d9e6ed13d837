package dev.kiln.ir;

/** Operators Kiln compiles. Frontends map their own operator names onto these. */
public enum OpType {
  CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, SOFTMAX,
  ADD, MUL, SUB, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6, PAD, MEAN,
  /** A permutation of the axes (ONNX Transpose; layout changes at the model boundary). */
  TRANSPOSE,
  /** min(max(x, min), max) with arbitrary bounds (ONNX Clip that is not a RELU or RELU6). */
  CLAMP,
  // family: reductions, resampling, spatial (ops-reduce)
  SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, ARG_MAX, ARG_MIN, CUMSUM, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR,
  DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, MIRROR_PAD, PADV2, L2_NORMALIZATION,
  L2_POOL_2D, LOCAL_RESPONSE_NORMALIZATION;

  /** True for ops whose output is only a new view of the input's bytes. */
  public boolean isView() { return this == RESHAPE; }
}
