package dev.kiln.frontend.tflite;

import dev.kiln.ir.DType;

/** TFLite's TensorType enum (format doc 3.1): which codes Kiln compiles, and every code's name. */
final class TensorTypes {
  private static final String[] NAMES = {
      "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
      "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
      "INT2", "UINT4", "FLOAT8_E4M3FN", "FLOAT8_E5M2",
  };

  private TensorTypes() {}

  /** The Kiln dtype of a TensorType code, or null when Kiln does not compile that type. */
  static DType dtype(int code) {
    switch (code) {
      case 0: return DType.FLOAT32;
      case 2: return DType.INT32;
      case 3: return DType.UINT8;
      case 4: return DType.INT64;
      case 6: return DType.BOOL;
      case 7: return DType.INT16;
      case 9: return DType.INT8;
      default: return null;
    }
  }

  static String name(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "code " + code;
  }
}
