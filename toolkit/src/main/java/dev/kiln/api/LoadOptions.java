package dev.kiln.api;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to read a model file: concrete shapes for inputs whose shape the file leaves open (ONNX
 * {@code dim_param} dimensions such as {@code batch_size}), and values for ONNX inputs that an application
 * always feeds the same (a Resize's scales, a TopK's K, a Reshape's shape, a Pad's pads given as graph
 * inputs): those are compiled as constants, so they fold and leave the compiled model's inputs. Immutable;
 * each call returns a new value: {@code Kiln.load(path, LoadOptions.inputShape("x", 1, 3, 32, 32))}.
 */
public final class LoadOptions {
  private static final LoadOptions DEFAULTS = new LoadOptions(Map.of(), Map.of());

  private final Map<String, int[]> inputShapes;
  private final Map<String, Tensor> constantInputs;

  private LoadOptions(Map<String, int[]> inputShapes, Map<String, Tensor> constantInputs) {
    this.inputShapes = inputShapes;
    this.constantInputs = constantInputs;
  }

  /** No options: every shape as the file declares it. */
  public static LoadOptions defaults() { return DEFAULTS; }

  /** Fixes the shape of the input with this model name. */
  public static LoadOptions inputShape(String name, int... shape) { return DEFAULTS.andInputShape(name, shape); }

  /** These options plus a fixed shape for one more input. */
  public LoadOptions andInputShape(String name, int... shape) {
    if (name == null || name.isEmpty()) throw new KilnException("an input shape needs the input's name");
    if (shape == null || shape.length == 0) throw new KilnException("the shape for input '" + name + "' is empty");
    for (int d : shape) {
      if (d < 1) throw new KilnException("the shape for input '" + name + "' is " + Arrays.toString(shape) + "; every dimension must be >= 1");
    }
    Map<String, int[]> m = new LinkedHashMap<>(inputShapes);
    m.put(name, shape.clone());
    return new LoadOptions(Collections.unmodifiableMap(m), constantInputs);
  }

  /** Compiles the ONNX input with this name as a constant of this value (it is no longer an input of the compiled model). */
  public static LoadOptions constantInput(String name, Tensor value) { return DEFAULTS.andConstantInput(name, value); }

  /** These options plus one more ONNX input compiled as a constant of this value. */
  public LoadOptions andConstantInput(String name, Tensor value) {
    if (name == null || name.isEmpty()) throw new KilnException("a constant input needs the input's name");
    Args.notNull(value, "value", "andConstantInput(name, value)", "the input's value, e.g. Tensor.load(\"scales.npy\")");
    Map<String, Tensor> m = new LinkedHashMap<>(constantInputs);
    m.put(name, value);
    return new LoadOptions(inputShapes, Collections.unmodifiableMap(m));
  }

  /** Input name -> the value it is compiled with, in the order given. */
  public Map<String, Tensor> constantInputs() { return constantInputs; }

  /**
   * Parses the command-line form {@code NAME=1,3,32,32} (the name may itself contain '=': the last
   * one separates) and adds it.
   */
  public LoadOptions andInputShape(String spec) {
    Args.notNull(spec, "spec", "andInputShape(spec)", "NAME=D0,D1,..., e.g. \"input:0=1,3,32,32\"");
    int eq = spec.lastIndexOf('=');
    if (eq <= 0 || eq == spec.length() - 1) {
      throw new KilnException("an input shape is NAME=D0,D1,..., e.g. 'input:0=1,3,32,32', not '" + spec + "'");
    }
    String[] parts = spec.substring(eq + 1).split(",");
    int[] shape = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        shape[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new KilnException("the input shape '" + spec + "' has the dimension '" + parts[i] + "', which is not a whole number");
      }
    }
    return andInputShape(spec.substring(0, eq), shape);
  }

  /** Input name -> shape, in the order given. */
  public Map<String, int[]> inputShapes() {
    Map<String, int[]> copy = new LinkedHashMap<>();
    inputShapes.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  public boolean isDefault() { return inputShapes.isEmpty() && constantInputs.isEmpty(); }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("LoadOptions[");
    inputShapes.forEach((k, v) -> sb.append(sb.length() > 12 ? ", " : "").append(k).append('=').append(Arrays.toString(v)));
    constantInputs.forEach((k, v) -> sb.append(sb.length() > 12 ? ", " : "").append(k).append(":=").append(v));
    return sb.append(']').toString();
  }
}
