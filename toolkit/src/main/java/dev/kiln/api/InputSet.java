package dev.kiln.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One set of inputs for a model (one tensor per input, in model order), named, with the outputs it
 * should give when they are known (a reference engine's). Immutable.
 *
 * <pre>{@code
 * InputSet.samplesBeside(Path.of("models/digits_cnn_int8/digits_cnn_int8.tflite"))   // sample0, sample1, ...
 * InputSet.of("seven", image).expecting(reference)
 * }</pre>
 */
public final class InputSet {
  private static final Pattern SAMPLE_INPUT = Pattern.compile("sample(\\d+)_in(\\d+)\\.npy");

  private final String name;
  private final List<Tensor> inputs;
  private final List<Tensor> expected;

  private InputSet(String name, List<Tensor> inputs, List<Tensor> expected) {
    this.name = name;
    this.inputs = List.copyOf(inputs);
    this.expected = expected == null ? null : List.copyOf(expected);
  }

  /** Inputs in model order, without a reference. */
  public static InputSet of(String name, Tensor... inputs) {
    Args.notNull(name, "name", "InputSet.of(name, inputs...)", "a name for this set, e.g. \"sample0\"");
    Args.notNull(inputs, "inputs", "InputSet.of(name, inputs...)", "one Tensor per model input, in model order");
    return of(name, List.of(inputs));
  }

  public static InputSet of(String name, List<Tensor> inputs) {
    Args.notNull(name, "name", "InputSet.of(name, inputs)", "a name for this set, e.g. \"sample0\"");
    Args.notNull(inputs, "inputs", "InputSet.of(name, inputs)", "one Tensor per model input, in model order");
    if (inputs.isEmpty()) throw new KilnException("InputSet.of(\"" + name + "\", inputs): no inputs; give one Tensor per model input");
    for (int i = 0; i < inputs.size(); i++) Args.notNull(inputs.get(i), "inputs[" + i + "]", "InputSet.of(name, inputs)", "a Tensor");
    return new InputSet(name, inputs, null);
  }

  /** The same inputs, with the outputs (model order) they should give. */
  public InputSet expecting(Tensor... outputs) {
    Args.notNull(outputs, "outputs", "expecting(outputs...)", "one Tensor per model output, in model order");
    return expecting(List.of(outputs));
  }

  public InputSet expecting(List<Tensor> outputs) {
    Args.notNull(outputs, "outputs", "expecting(outputs)", "one Tensor per model output, in model order");
    for (int i = 0; i < outputs.size(); i++) Args.notNull(outputs.get(i), "outputs[" + i + "]", "expecting(outputs)", "a Tensor");
    return new InputSet(name, inputs, outputs);
  }

  /**
   * The samples in the model file's folder: {@code sample<s>_in<i>.npy} for every input {@code i},
   * with {@code sample<s>_out<j>.npy} as the expected outputs when all of them are there (the shared
   * models' references, made by TFLite's reference kernels or onnxruntime). Sorted by sample number.
   */
  public static List<InputSet> samplesBeside(Path modelFile) {
    Args.notNull(modelFile, "modelFile", "InputSet.samplesBeside(modelFile)", "the model file whose folder holds sample<s>_in<i>.npy");
    Path dir = modelFile.toAbsolutePath().getParent();
    TreeMap<Integer, TreeMap<Integer, Path>> found = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = SAMPLE_INPUT.matcher(p.getFileName().toString());
        if (m.matches()) found.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new TreeMap<>()).put(Integer.parseInt(m.group(2)), p);
      }
    } catch (IOException e) {
      throw new KilnException("cannot list the samples beside " + modelFile + ": " + e.getMessage(), e);
    }
    List<InputSet> sets = new ArrayList<>();
    for (var e : found.entrySet()) {
      int s = e.getKey();
      List<Tensor> ins = new ArrayList<>();
      int i = 0;
      for (var in : e.getValue().entrySet()) {
        if (in.getKey() != i++) throw new KilnException(dir + ": sample" + s + " has inputs " + e.getValue().keySet() + "; want in0, in1, ... without gaps");
        ins.add(Tensor.load(in.getValue()));
      }
      List<Tensor> outs = new ArrayList<>();
      for (int j = 0; Files.isRegularFile(dir.resolve("sample" + s + "_out" + j + ".npy")); j++) {
        outs.add(Tensor.load(dir.resolve("sample" + s + "_out" + j + ".npy")));
      }
      sets.add(new InputSet("sample" + s, ins, outs.isEmpty() ? null : outs));
    }
    return sets;
  }

  public String name() { return name; }

  public List<Tensor> inputs() { return inputs; }

  /** The outputs these inputs should give, if known. */
  public Optional<List<Tensor>> expected() { return Optional.ofNullable(expected); }

  @Override public String toString() {
    return name + ": " + inputs.size() + " input(s)" + (expected != null ? ", " + expected.size() + " expected output(s)" : "");
  }
}
