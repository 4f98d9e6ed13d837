package dev.kiln.ir;

/** Operators Kiln compiles. Frontends map their own operator names onto these. */
public enum OpType {
  CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, SOFTMAX,
  ADD, MUL, SUB, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6, PAD, MEAN,
  /** A permutation of the axes (ONNX Transpose; layout changes at the model boundary). */
  TRANSPOSE,
  /** min(max(x, min), max) with arbitrary bounds (ONNX Clip that is not a RELU or RELU6). */
  CLAMP,
  // family: data movement (ops-movement)
  SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, PACK, UNPACK, GATHER, GATHER_ND, TILE, BROADCAST_TO, BROADCAST_ARGS,
  REVERSE_V2, EXPAND_DIMS, SQUEEZE, SHAPE, DYNAMIC_UPDATE_SLICE, EMBEDDING_LOOKUP;

  /** True for ops whose output is only a new view of the input's bytes. */
  public boolean isView() { return this == RESHAPE || this == EXPAND_DIMS || this == SQUEEZE; }
}
