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
  // family: elementwise math (ops-eltwise)
  ABS, NEG, SQRT, RSQRT, SQUARE, EXP, LOG, SIN, COS, CEIL, FLOOR, ROUND,
  DIV, FLOOR_DIV, FLOOR_MOD, POW, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM,
  EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL, LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT,
  /** cond ? x1 : x2 with broadcasting of all three inputs. */
  SELECT_V2, CAST, ELU, LEAKY_RELU, HARD_SWISH, PRELU, GELU, RELU_N1_TO_1, LOG_SOFTMAX,
  /** Sum of any number of same-shape inputs. */
  ADD_N,
  /** Zeros of the input's shape and type. */
  ZEROS_LIKE,
  /** The output (whose shape is the constant dims input 0) filled with the scalar input 1. */
  FILL,
  // family: data movement (ops-movement)
  SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, PACK, UNPACK, GATHER, GATHER_ND, TILE, BROADCAST_TO, BROADCAST_ARGS,
  REVERSE_V2, EXPAND_DIMS, SQUEEZE, SHAPE, DYNAMIC_UPDATE_SLICE, EMBEDDING_LOOKUP,
  // family: reductions, resampling, spatial (ops-reduce)
  SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, ARG_MAX, ARG_MIN, CUMSUM, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR,
  DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, MIRROR_PAD, PADV2, L2_NORMALIZATION,
  L2_POOL_2D, LOCAL_RESPONSE_NORMALIZATION,
  /** TFLite SVDF: a rank-decomposed time filter over a state variable. */
  SVDF,
  /** TFLite UNIDIRECTIONAL_SEQUENCE_LSTM: an LSTM over a sequence, its h and c in state variables. */
  UNIDIRECTIONAL_SEQUENCE_LSTM,
  // family: control flow (ctrl-flow)
  /** TFLite WHILE: runs its body subgraph while its cond subgraph says true; operands in, final values out. */
  WHILE,
  /** TFLite IF: runs the then or the else subgraph on its operands, by the bool input 0. */
  IF,
  /** TFLite CALL_ONCE: runs its init subgraph (no inputs or outputs) the first time the model runs. */
  CALL_ONCE,
  /** TFLite VAR_HANDLE: names a resource variable; the frontend resolves it, so no VAR_HANDLE op reaches the compiler. */
  VAR_HANDLE,
  /** TFLite READ_VARIABLE: copies a resource variable (a variable tensor, input 0) to its output. */
  READ_VARIABLE,
  /** TFLite ASSIGN_VARIABLE: copies input 1 into the resource variable (a variable tensor, input 0); no outputs. */
  ASSIGN_VARIABLE,
  // family: dtypes (tfl-dtypes)
  /** TFLite REDUCE_PROD: Keras' Tensordot (Dense on rank-3 inputs) multiplies shape entries; folded at compile time. */
  REDUCE_PROD,
  // family: onnx (onnx-more)
  /** ONNX Erf: the error function, float32 (torch's exact GELU exports as Div, Erf, Add, Mul, Mul before opset 20). */
  ERF,
  /**
   * ONNX TopK: the k largest (or smallest) values along one axis, best first and ties to the lower index (output 0),
   * and their int64 positions (output 1); k is the outputs' size on that axis.
   */
  TOPK,
  /**
   * ONNX integer arithmetic on tensors that carry no quantization (Add, Sub, Mul, Div, Mod, Max, Min and the
   * comparisons on int8, uint8, int16, int32, int64) with numpy broadcasting; which one is {@link Options.IntArith}.
   */
  INT_ARITH,
  /** ONNX Mod with fmod=1 on float32: C's {@code fmodf}, the dividend's sign (fmod=0 is TFLite's FLOOR_MOD). */
  FMOD;

  /** True for ops whose output is only a new view of the input's bytes. */
  public boolean isView() { return this == RESHAPE || this == EXPAND_DIMS || this == SQUEEZE; }
}
