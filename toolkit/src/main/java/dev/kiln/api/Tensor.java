package dev.kiln.api;

import dev.kiln.ir.DType;
import dev.kiln.ir.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tensor value on the host: shape, dtype and little-endian row-major bytes. Loads and saves
 * {@code .npy} files (format versions 1-3, C order). Immutable.
 */
public final class Tensor {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private final int[] shape;
  private final DType dtype;
  private final byte[] data;

  private Tensor(int[] shape, DType dtype, byte[] data) {
    long need = byteSize(shape, dtype);
    if (need != data.length) {
      throw new KilnException("shape " + Shape.toString(shape) + " of " + dtype + " needs " + need + " bytes, got " + data.length);
    }
    this.shape = shape.clone();
    this.dtype = dtype;
    this.data = data;
  }

  /**
   * Bytes of {@code shape} elements of {@code dtype}, after checking the shape: every dimension
   * >= 0 and a total that fits a Java array. The message names the bad dimension.
   */
  private static long byteSize(int[] shape, DType dtype) {
    Args.notNull(shape, "shape", "Tensor", "the dimensions, e.g. new int[] {1, 28, 28, 1}");
    Args.notNull(dtype, "dtype", "Tensor", "a DType such as DType.FLOAT32 or DType.INT8");
    long n = dtype.byteSize();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new KilnException("shape " + Shape.toString(shape) + " has dimension " + i + " = " + shape[i]
            + "; every dimension must be 0 or more");
      }
      n = shape[i] == 0 ? 0 : n > (Integer.MAX_VALUE - 16) / shape[i] ? -1 : n * shape[i];
      if (n < 0) {
        throw new KilnException("shape " + Shape.toString(shape) + " of " + dtype + " needs more than " + (Integer.MAX_VALUE - 16)
            + " bytes, the most a host tensor holds");
      }
    }
    return n;
  }

  public static Tensor of(DType dtype, int[] shape, byte[] littleEndianBytes) {
    Args.notNull(dtype, "dtype", "Tensor.of(dtype, shape, bytes)", "a DType such as DType.FLOAT32 or DType.INT8");
    Args.notNull(shape, "shape", "Tensor.of(dtype, shape, bytes)", "the dimensions, e.g. new int[] {1, 28, 28, 1}");
    Args.notNull(littleEndianBytes, "bytes", "Tensor.of(dtype, shape, bytes)", "the little-endian element bytes");
    return new Tensor(shape, dtype, littleEndianBytes.clone());
  }

  public static Tensor ofFloats(int[] shape, float... values) {
    Args.notNull(shape, "shape", "Tensor.ofFloats(shape, values)", "the dimensions, e.g. new int[] {1, 10}");
    Args.notNull(values, "values", "Tensor.ofFloats(shape, values)", "the float values in row-major order");
    long need = byteSize(shape, DType.FLOAT32) / 4;
    if (need != values.length) {
      throw new KilnException("Tensor.ofFloats: shape " + Shape.toString(shape) + " holds " + need + " values, got " + values.length);
    }
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) b.putFloat(v);
    return new Tensor(shape, DType.FLOAT32, b.array());
  }

  public static Tensor ofInt8(int[] shape, byte... values) {
    Args.notNull(shape, "shape", "Tensor.ofInt8(shape, values)", "the dimensions, e.g. new int[] {1, 10}");
    Args.notNull(values, "values", "Tensor.ofInt8(shape, values)", "the int8 values in row-major order");
    long need = byteSize(shape, DType.INT8);
    if (need != values.length) {
      throw new KilnException("Tensor.ofInt8: shape " + Shape.toString(shape) + " holds " + need + " values, got " + values.length);
    }
    return new Tensor(shape, DType.INT8, values.clone());
  }

  /** Reads a {@code .npy} file; the error names the file and what is wrong with it. */
  public static Tensor load(String path) {
    Args.notNull(path, "path", "Tensor.load(path)", "the .npy file's path, e.g. \"sample0_in0.npy\"");
    return load(Path.of(path));
  }

  public static Tensor load(Path path) {
    Args.notNull(path, "path", "Tensor.load(path)", "the .npy file's path, e.g. Path.of(\"sample0_in0.npy\")");
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new KilnException("cannot read " + path + ": " + (Files.exists(path) ? e.getMessage() : "no such file"), e);
    }
    return parseNpy(path.toString(), bytes);
  }

  static Tensor parseNpy(String name, byte[] bytes) {
    if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
      throw new KilnException(name + " is not a .npy file (it does not start with \\x93NUMPY)");
    }
    int major = bytes[6];
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) throw new KilnException(name + ": truncated .npy header");
      headerLen = b.getInt(8);
      start = 12;
    } else {
      throw new KilnException(name + ": unsupported .npy format version " + major);
    }
    if (headerLen < 0 || start + headerLen > bytes.length) throw new KilnException(name + ": truncated .npy header");
    String header = new String(bytes, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !s.find()) throw new KilnException(name + ": .npy header lacks descr or shape: " + header.trim());
    if (f.find() && f.group(1).equals("True")) {
      throw new KilnException(name + ": Fortran-order arrays are not supported; save with np.ascontiguousarray(x)");
    }
    DType dtype;
    try {
      dtype = DType.fromNpyDescr(d.group(1));
    } catch (IllegalArgumentException e) {
      throw new KilnException(name + ": " + e.getMessage());
    }
    List<Integer> dims = new ArrayList<>();
    for (String part : s.group(1).split(",")) {
      if (part.isBlank()) continue;
      try {
        dims.add(Integer.parseInt(part.trim()));
      } catch (NumberFormatException e) {
        throw new KilnException(name + ": .npy shape (" + s.group(1) + ") has the dimension '" + part.trim() + "', not a whole number up to "
            + Integer.MAX_VALUE);
      }
    }
    int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
    long need;
    try {
      need = byteSize(shape, dtype);
    } catch (KilnException e) {
      throw new KilnException(name + ": " + e.getMessage(), e);
    }
    int dataStart = start + headerLen;
    if (bytes.length - dataStart != need) {
      throw new KilnException(name + ": shape " + Shape.toString(shape) + " of " + dtype + " needs " + need
          + " data bytes, the file has " + (bytes.length - dataStart));
    }
    return new Tensor(shape, dtype, Arrays.copyOfRange(bytes, dataStart, bytes.length));
  }

  /** Writes a version-1 {@code .npy} file numpy reads back unchanged. */
  public Path save(String path) {
    Args.notNull(path, "path", "save(path)", "the .npy file to write, e.g. \"out.npy\"");
    return save(Path.of(path));
  }

  public Path save(Path path) {
    Args.notNull(path, "path", "save(path)", "the .npy file to write, e.g. Path.of(\"out.npy\")");
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.write(path, toNpy());
      return path;
    } catch (IOException e) {
      throw new KilnException("cannot write " + path + ": " + e.getMessage(), e);
    }
  }

  public byte[] toNpy() {
    StringBuilder shapeText = new StringBuilder();
    for (int d : shape) shapeText.append(d).append(", ");
    String dims = shape.length == 1 ? shape[0] + "," : shapeText.length() == 0 ? "" : shapeText.substring(0, shapeText.length() - 2);
    String header = String.format(Locale.ROOT, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype.npyDescr(), dims);
    int total = MAGIC.length + 4 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
    return b.array();
  }

  /** The same bytes under another shape with as many elements. */
  public Tensor reshape(int... newShape) {
    Args.notNull(newShape, "newShape", "reshape(newShape)", "the new dimensions, e.g. reshape(1, 64)");
    byteSize(newShape, dtype);
    if (Shape.elements(newShape) != elements()) {
      throw new KilnException("cannot reshape " + Shape.toString(shape) + " (" + elements() + " elements) to " + Shape.toString(newShape));
    }
    return new Tensor(newShape, dtype, data);
  }

  /**
   * float32 to int8 with TFLite's QUANTIZE arithmetic: {@code clamp(round(x / scale) + zeroPoint)},
   * float32 division, ties away from zero.
   */
  public Tensor quantize(float scale, int zeroPoint) {
    requireType(DType.FLOAT32);
    float[] x = toFloatArray();
    byte[] q = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      long v = dev.kiln.compile.FixedPoint.rhaz(x[i] / scale) + (long) zeroPoint;
      q[i] = (byte) Math.max(-128, Math.min(127, v));
    }
    return new Tensor(shape, DType.INT8, q);
  }

  /** Quantizes with an input's own scale and zero point. */
  public Tensor quantize(TensorInfo like) {
    Args.notNull(like, "like", "quantize(like)", "the input to quantize for, e.g. executor.inputs().get(0)");
    if (!like.isQuantized()) throw new KilnException(like.names() + " is not quantized (" + like.dtype() + "): no scale to quantize with");
    return quantize(like.scale(), like.zeroPoint());
  }

  /** int8/uint8 to float32: {@code scale * (q - zeroPoint)}. */
  public Tensor dequantize(float scale, int zeroPoint) {
    if (dtype != DType.INT8 && dtype != DType.UINT8) throw new KilnException("tensor is " + dtype + ", not int8 or uint8: nothing to dequantize");
    ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (byte v : data) b.putFloat((float) ((double) scale * ((dtype == DType.INT8 ? v : v & 0xff) - zeroPoint)));
    return new Tensor(shape, DType.FLOAT32, b.array());
  }

  /** Dequantizes with an output's (or input's) own scale and zero point. */
  public Tensor dequantize(TensorInfo like) {
    Args.notNull(like, "like", "dequantize(like)", "the output to dequantize with, e.g. executor.outputs().get(0)");
    if (!like.isQuantized()) throw new KilnException(like.names() + " is not quantized (" + like.dtype() + "): no scale to dequantize with");
    return dequantize(like.scale(), like.zeroPoint());
  }

  /** Index of the largest element (a classifier's answer). */
  public int argmax() {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int best = 0;
    double bestValue = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < elements(); i++) {
      double v = switch (dtype) {
        case FLOAT32 -> b.getFloat(i * 4);
        case INT8 -> b.get(i);
        case UINT8, BOOL -> b.get(i) & 0xff;
        case INT16 -> b.getShort(i * 2);
        case INT32 -> b.getInt(i * 4);
        case INT64 -> b.getLong(i * 8);
      };
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }

  public int[] shape() { return shape.clone(); }

  public DType dtype() { return dtype; }

  public long elements() { return Shape.elements(shape); }

  /** The raw little-endian bytes (a copy). */
  public byte[] bytes() { return data.clone(); }

  public float[] toFloatArray() {
    requireType(DType.FLOAT32);
    float[] out = new float[(int) elements()];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  public byte[] toByteArray() {
    if (dtype.byteSize() != 1) throw new KilnException("tensor is " + dtype + ", not a 1-byte type");
    return data.clone();
  }

  private void requireType(DType t) {
    if (dtype != t) throw new KilnException("tensor is " + dtype + ", not " + t);
  }

  @Override public boolean equals(Object o) {
    return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && Arrays.equals(t.data, data);
  }

  @Override public int hashCode() { return Arrays.hashCode(data); }

  @Override public String toString() { return "Tensor " + Shape.toString(shape) + " " + dtype; }
}
