package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One operator: its type, input tensors (an absent optional input is {@code null}), output
 * tensors and typed options. {@link #index()} is the position in the model's execution order.
 */
public final class Op {
  private final int index;
  private final OpType type;
  private final List<Tensor> inputs;
  private final List<Tensor> outputs;
  private final Options options;

  public Op(int index, OpType type, List<Tensor> inputs, List<Tensor> outputs, Options options) {
    this.index = index;
    this.type = Objects.requireNonNull(type, "type");
    this.inputs = Collections.unmodifiableList(new ArrayList<>(inputs));
    this.outputs = List.copyOf(outputs);
    this.options = Objects.requireNonNull(options, "options");
  }

  public int index() { return index; }

  public OpType type() { return type; }

  public List<Tensor> inputs() { return inputs; }

  /** Input {@code i}, or null when it is absent (optional bias, say). */
  public Tensor input(int i) { return i < inputs.size() ? inputs.get(i) : null; }

  public List<Tensor> outputs() { return outputs; }

  public Tensor output() { return outputs.get(0); }

  public Options options() { return options; }

  /** The options as the given record type, failing with the op named if they are not. */
  public <T extends Options> T options(Class<T> kind) {
    if (!kind.isInstance(options)) {
      throw new IllegalStateException("op #" + index + " " + type + " has " + options + ", expected " + kind.getSimpleName());
    }
    return kind.cast(options);
  }

  public Op withIndex(int newIndex) { return new Op(newIndex, type, inputs, outputs, options); }

  @Override public String toString() {
    return "#" + index + " " + type + "(" + inputs.stream().map(t -> t == null ? "-" : t.name()).collect(Collectors.joining(", "))
        + ") -> " + outputs.stream().map(Tensor::name).collect(Collectors.joining(", "));
  }
}
