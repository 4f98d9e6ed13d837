package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.DType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * TensorProto -> {@link Constant} (onnx-format.md 2.7 and 3): external data first, then {@code
 * raw_data}, then the typed field of the data type. Small integer types in {@code int32_data} hold
 * one plain value per entry. External files are read relative to the model's folder and must stay
 * inside it.
 */
final class TensorDecoder {
  private final String file;
  private final byte[] bytes;
  private final Path modelDir;

  /** @param modelDir the folder external data is relative to, or null when the model came from memory */
  TensorDecoder(String file, byte[] bytes, Path modelDir) {
    this.file = file;
    this.bytes = bytes;
    this.modelDir = modelDir;
  }

  /** The Kiln dtype of an ONNX TensorProto.DataType, or null. */
  static DType dtype(int onnxType) {
    return switch (onnxType) {
      case 1 -> DType.FLOAT32;
      case 2 -> DType.UINT8;
      case 3 -> DType.INT8;
      case 5 -> DType.INT16;
      case 6 -> DType.INT32;
      case 7 -> DType.INT64;
      case 9 -> DType.BOOL;
      default -> null;
    };
  }

  static String typeName(int onnxType) {
    if (onnxType == Proto.NO_ELEM_TYPE) return "none (no elem_type)";
    String[] names = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16",
        "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2"};
    return onnxType >= 0 && onnxType < names.length ? names[onnxType] + " (" + onnxType + ")" : "data type " + onnxType;
  }

  static final String SUPPORTED_TYPES = "FLOAT, UINT8, INT8, INT16, INT32, INT64, BOOL";

  /**
   * What makes a model with this unsupported floating-point type compile ("" for other types). Kiln decided not to
   * run float64 (microcontroller FPUs are single precision or none, and a double-precision C kernel for every operator
   * would be emulated in software there): the model is re-exported in float32, which is what it is on such a device.
   */
  static String typeFix(int onnxType) {
    return switch (onnxType) {
      case 11 -> "; Kiln computes floating point in float32, not float64 (DOUBLE): export the model in float32 (torch:"
          + " model.float() and a float32 example input before torch.onnx.export, and .float() where the model calls .double())";
      case 10, 16 -> "; Kiln computes floating point in float32: export the model in float32 (torch: model.float() before"
          + " torch.onnx.export; onnxconverter_common's float16 models: convert them back or export the float32 original)";
      default -> "";
    };
  }

  Constant decode(Proto.TensorData t) throws ModelFormatException {
    String what = "tensor '" + t.name() + "' (" + t.path() + ")";
    DType dtype = dtype(t.dataType());
    if (dtype == null) {
      throw new ModelFormatException(file, what + " has data type " + typeName(t.dataType()) + ", which Kiln does not compile"
          + " (supported: " + SUPPORTED_TYPES + ")" + typeFix(t.dataType()));
    }
    if (t.segmented()) {
      throw new ModelFormatException(file, what + " is a segment of a chunked tensor (TensorProto.segment), which Kiln does not read");
    }
    int[] shape = new int[t.dims().length];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = t.dims()[i];
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new ModelFormatException(file, what + " has dimension " + i + " = " + d + " in dims " + Arrays.toString(t.dims())
            + "; dimensions must be between 0 and 2^31-1");
      }
      shape[i] = (int) d;
      count *= d;
      if (count > Integer.MAX_VALUE) {
        throw new ModelFormatException(file, what + " has dims " + Arrays.toString(t.dims()) + ": more than 2^31 elements");
      }
    }
    int n = (int) count;
    int size = dtype.byteSize();
    if ((long) n * size > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(file, what + " would take " + (long) n * size + " bytes; Kiln handles tensors below 2 GiB");
    }
    if (t.isExternal()) return new Constant(shape, dtype, external(t, what, (long) n * size));
    if (t.hasRaw()) {
      int len = t.rawEnd() - t.rawStart();
      if (len != (long) n * size) {
        throw new ModelFormatException(file, what + " has " + len + " bytes of raw_data, but dims " + Arrays.toString(t.dims())
            + " of " + typeName(t.dataType()) + " need " + (long) n * size);
      }
      return new Constant(shape, dtype, Arrays.copyOfRange(bytes, t.rawStart(), t.rawEnd()));
    }
    ByteBuffer b = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case FLOAT32 -> {
        requireCount(what, "float_data", t.floatBits().length, n, t);
        for (int bits : t.floatBits()) b.putInt(bits);
      }
      case INT64 -> {
        requireCount(what, "int64_data", t.int64s().length, n, t);
        for (long v : t.int64s()) b.putLong(v);
      }
      default -> {
        requireCount(what, "int32_data", t.int32s().length, n, t);
        long lo = switch (dtype) {
          case INT8 -> -128;
          case INT16 -> Short.MIN_VALUE;
          case INT32 -> Integer.MIN_VALUE;
          default -> 0;
        };
        long hi = switch (dtype) {
          case INT8 -> 127;
          case UINT8 -> 255;
          case BOOL -> 1;
          case INT16 -> Short.MAX_VALUE;
          default -> Integer.MAX_VALUE;
        };
        for (int i = 0; i < n; i++) {
          long v = (int) t.int32s()[i]; // an int32 field: the low 32 bits, sign-extended
          if (v < lo || v > hi) {
            throw new ModelFormatException(file, what + " holds " + v + " at int32_data[" + i + "], outside the "
                + typeName(t.dataType()) + " range [" + lo + ", " + hi + "]");
          }
          switch (dtype) {
            case INT16 -> b.putShort((short) v);
            case INT32 -> b.putInt((int) v);
            default -> b.put((byte) v);
          }
        }
      }
    }
    return new Constant(shape, dtype, b.array());
  }

  private void requireCount(String what, String field, int have, int need, Proto.TensorData t) throws ModelFormatException {
    if (have != need) {
      throw new ModelFormatException(file, what + " has " + have + " values in " + field + (have == 0 ? " and no raw_data" : "")
          + ", but dims " + Arrays.toString(t.dims()) + " need " + need);
    }
  }

  private byte[] external(Proto.TensorData t, String what, long need) throws ModelFormatException {
    Map<String, String> keys = t.externalData();
    String location = keys.get("location");
    String described = what + " keeps its data in an external file (external_data " + keys + ")";
    if (need > dev.kiln.frontend.ModelLimits.MAX_TENSOR_BYTES) { // refused before any of it is read
      throw new ModelFormatException(file, described + " of " + need + " bytes; Kiln takes models whose tensors need at most "
          + dev.kiln.frontend.ModelLimits.MAX_TENSOR_BYTES + " bytes in all (ModelLimits.MAX_TENSOR_BYTES)");
    }
    if (location == null || location.isEmpty()) {
      throw new ModelFormatException(file, described + " without the required 'location' key");
    }
    long offset = number(keys, "offset", 0, described);
    long length = number(keys, "length", -1, described);
    if (modelDir == null) {
      throw new ModelFormatException(file, described + ", but the model was loaded from memory, so there is no folder to find '"
          + location + "' in; load the model from its file");
    }
    Path dir = modelDir.toAbsolutePath().normalize();
    Path data = dir.resolve(location).normalize();
    if (Path.of(location).isAbsolute() || !data.startsWith(dir)) {
      throw new ModelFormatException(file, described + ": the location '" + location + "' points outside the model's folder "
          + dir + "; external data must sit next to the model");
    }
    if (!Files.isRegularFile(data)) {
      throw new ModelFormatException(file, described + ", but '" + location + "' does not exist next to the model (looked for "
          + data + "); copy the data file beside the .onnx file");
    }
    try (RandomAccessFile in = new RandomAccessFile(data.toFile(), "r")) {
      long size = in.length();
      long len = length >= 0 ? length : size - offset;
      if (offset > size || len < 0 || offset + len > size) {
        throw new ModelFormatException(file, described + ", but " + data + " has only " + size + " bytes (needs offset "
            + offset + " + length " + len + ")");
      }
      if (len != need) {
        throw new ModelFormatException(file, described + ": " + len + " bytes at offset " + offset + " of " + location
            + ", but dims " + Arrays.toString(t.dims()) + " of " + typeName(t.dataType()) + " need " + need);
      }
      byte[] b = new byte[(int) len];
      in.seek(offset);
      in.readFully(b);
      return b;
    } catch (IOException e) {
      throw new ModelFormatException(file, described + ", but reading " + data + " failed: " + e.getMessage(), e);
    }
  }

  private long number(Map<String, String> keys, String key, long dflt, String described) throws ModelFormatException {
    String v = keys.get(key);
    if (v == null || v.isEmpty()) return dflt;
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new ModelFormatException(file, described + ": '" + key + "' is '" + v + "', expected a non-negative decimal number");
    }
  }
}
