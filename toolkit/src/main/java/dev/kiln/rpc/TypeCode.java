package dev.kiln.rpc;

/** TVM argument type codes (TVMArgTypeCode), i32 on the wire. */
public final class TypeCode {
  private TypeCode() {}

  public static final int INT = 0;
  public static final int UINT = 1;
  public static final int FLOAT = 2;
  public static final int OPAQUE_HANDLE = 3;
  public static final int NULLPTR = 4;
  public static final int DATA_TYPE = 5;
  public static final int DEVICE = 6;
  public static final int DLTENSOR_HANDLE = 7;
  public static final int OBJECT_HANDLE = 8;
  public static final int MODULE_HANDLE = 9;
  public static final int PACKED_FUNC_HANDLE = 10;
  public static final int STR = 11;
  public static final int BYTES = 12;
  public static final int NDARRAY_HANDLE = 13;
  public static final int BOOL = 15;

  static String name(int code) {
    return switch (code) {
      case INT -> "Int";
      case UINT -> "UInt";
      case FLOAT -> "Float";
      case OPAQUE_HANDLE -> "OpaqueHandle";
      case NULLPTR -> "Nullptr";
      case DATA_TYPE -> "DataType";
      case DEVICE -> "Device";
      case DLTENSOR_HANDLE -> "DLTensorHandle";
      case OBJECT_HANDLE -> "ObjectHandle";
      case MODULE_HANDLE -> "ModuleHandle";
      case PACKED_FUNC_HANDLE -> "PackedFuncHandle";
      case STR -> "Str";
      case BYTES -> "Bytes";
      case NDARRAY_HANDLE -> "NDArrayHandle";
      case BOOL -> "Bool";
      default -> "code " + code;
    };
  }
}
