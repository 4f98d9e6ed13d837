package dev.kiln.ir;

import java.util.List;
import java.util.Objects;

/**
 * A tensor of the graph: its exact model name, a C-safe name unique in its graph, static shape,
 * dtype, quantization and, for constants, its bytes (little-endian, row-major). Immutable.
 */
public final class Tensor {
  private final int id;
  private final String name;
  private final String cName;
  private final List<String> aliases;
  private final int[] shape;
  private final DType dtype;
  private final Quantization quantization;
  private final byte[] data;
  private final boolean variable;
  private final boolean dynamicShape;

  private Tensor(Builder b) {
    this.variable = b.variable;
    this.dynamicShape = b.dynamicShape;
    this.id = b.id;
    this.name = Objects.requireNonNull(b.name, "name");
    this.cName = Objects.requireNonNull(b.cName, "cName");
    this.aliases = List.copyOf(b.aliases);
    this.shape = b.shape.clone();
    this.dtype = Objects.requireNonNull(b.dtype, "dtype");
    this.quantization = b.quantization;
    this.data = b.data;
    for (int d : shape) {
      if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Shape.toString(shape));
    }
    if (data != null && data.length != byteSize()) {
      throw new IllegalArgumentException("tensor '" + name + "' data has " + data.length + " bytes, shape "
          + Shape.toString(shape) + " of " + dtype + " needs " + byteSize());
    }
  }

  public static Builder builder(String name) { return new Builder().name(name); }

  public Builder toBuilder() {
    return new Builder().id(id).name(name).cName(cName).aliases(aliases).shape(shape).dtype(dtype)
        .quantization(quantization).data(data).variable(variable).dynamicShape(dynamicShape);
  }

  /** Position in {@link Graph#tensors()}. */
  public int id() { return id; }

  /** The exact name in the model file, e.g. {@code predict_images:0}. */
  public String name() { return name; }

  /** The C identifier derived from the name, unique in the graph, e.g. {@code predict_images_0}. */
  public String cName() { return cName; }

  /** Extra user-facing names, e.g. a TFLite signature key. */
  public List<String> aliases() { return aliases; }

  public int[] shape() { return shape.clone(); }

  public int rank() { return shape.length; }

  public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

  public DType dtype() { return dtype; }

  public Quantization quantization() { return quantization; }

  public boolean isConstant() { return data != null; }

  /**
   * A variable: state an op reads and updates in place, kept from one run to the next in a static
   * buffer that starts at zero (TFLite's is_variable tensors of SVDF and sequence LSTMs). Never
   * constant, never a model input or output, written by no op's output list.
   */
  public boolean isVariable() { return variable; }

  /**
   * True if the model gave this activation a dynamic shape (a -1 in TFLite's shape signature): its
   * shape is then the converter's guess for a batch of 1, which the compiler re-derives from the
   * static inputs before planning (ShapeInference) and refuses if it cannot.
   */
  public boolean hasDynamicShape() { return dynamicShape; }

  /** The constant's bytes (a copy), or null for activations. */
  public byte[] data() { return data == null ? null : data.clone(); }

  /** The constant's bytes without copying; callers must not modify them. */
  byte[] rawData() { return data; }

  public long elements() { return Shape.elements(shape); }

  public int byteSize() { return Math.toIntExact(elements() * dtype.byteSize()); }

  /** Both names for display: {@code predict_images:0 (C: predict_images_0)}. */
  public String describeNames() {
    return name.equals(cName) ? name : name + " (C: " + cName + ")";
  }

  @Override public String toString() {
    return describeNames() + " " + Shape.toString(shape) + " " + dtype
        + (quantization.isQuantized() ? " " + quantization : "");
  }

  public static final class Builder {
    private int id = -1;
    private String name;
    private String cName;
    private List<String> aliases = List.of();
    private int[] shape = new int[0];
    private DType dtype;
    private Quantization quantization = Quantization.NONE;
    private byte[] data;
    private boolean variable;
    private boolean dynamicShape;

    public Builder id(int id) { this.id = id; return this; }
    public Builder name(String name) { this.name = name; return this; }
    public Builder cName(String cName) { this.cName = cName; return this; }
    public Builder aliases(List<String> aliases) { this.aliases = aliases; return this; }
    public Builder shape(int... shape) { this.shape = shape.clone(); return this; }
    public Builder dtype(DType dtype) { this.dtype = dtype; return this; }
    public Builder quantization(Quantization q) { this.quantization = q == null ? Quantization.NONE : q; return this; }
    public Builder data(byte[] data) { this.data = data; return this; }
    public Builder variable(boolean variable) { this.variable = variable; return this; }
    public Builder dynamicShape(boolean dynamicShape) { this.dynamicShape = dynamicShape; return this; }

    public Tensor build() {
      if (cName == null) cName = CNames.sanitize(name);
      return new Tensor(this);
    }
  }
}
