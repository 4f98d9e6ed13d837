package dev.kiln.api;

import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * What a user needs to know about one model input or output: both names, shape, dtype,
 * quantization and byte size. Immutable.
 */
public record TensorInfo(int index, String name, String cName, List<String> aliases, int[] shape, String dtype,
                         Float scale, Integer zeroPoint, int bytes) {

  static TensorInfo of(int index, Tensor t) {
    Quantization q = t.quantization();
    boolean perTensor = q.isQuantized() && !q.isPerChannel();
    return new TensorInfo(index, t.name(), t.cName(), t.aliases(), t.shape(), t.dtype().numpyName(),
        perTensor ? q.scale() : null, perTensor ? q.zeroPoint() : null, t.byteSize());
  }

  public boolean isQuantized() { return scale != null; }

  /** {@code predict_images:0 (C: predict_images_0)}. */
  public String names() { return name.equals(cName) ? name : name + " (C: " + cName + ")"; }

  /** One line: names, shape, dtype and quantization. */
  public String describe() {
    return names() + " " + Shape.toString(shape) + " " + dtype
        + (isQuantized() ? " scale=" + scale + " zero_point=" + zeroPoint : "");
  }

  @Override public boolean equals(Object o) {
    return o instanceof TensorInfo t && t.index == index && t.name.equals(name) && t.cName.equals(cName)
        && Arrays.equals(t.shape, shape) && t.dtype.equals(dtype);
  }

  @Override public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

  @Override public String toString() { return describe(); }
}
