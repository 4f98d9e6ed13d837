/** The immutable model graph every frontend produces and every later stage reads: tensors, ops, dtypes, quantization. */
package dev.kiln.ir;
