package dev.kiln.api;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.OnnxReader;
import dev.kiln.frontend.tflite.TfliteReader;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Where notebooks and the command line start: {@code Kiln.load("model.tflite")} or {@code Kiln.load("model.onnx")}. */
public final class Kiln {
  private Kiln() {}

  public static Model load(String path) {
    return load(toPath(path, "Kiln.load(path)"));
  }

  private static Path toPath(String path, String call) {
    Args.notNull(path, "path", call, "the model file's path, e.g. \"models/digits_cnn_int8.tflite\"");
    try {
      return Path.of(path);
    } catch (java.nio.file.InvalidPathException e) {
      throw new KilnException(call + ": '" + path + "' is not a valid path: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a model file; the format is told by its content (TFLite's TFL3 identifier, an ONNX
   * protobuf header), then by its name ({@code .tflite}, {@code .onnx}).
   */
  public static Model load(Path path) {
    Args.notNull(path, "path", "Kiln.load(path)", "the model file's path, e.g. Path.of(\"models/digits_cnn_int8.tflite\")");
    return load(path, LoadOptions.defaults());
  }

  public static Model load(String path, LoadOptions options) { return load(toPath(path, "Kiln.load(path, options)"), options); }

  /**
   * Reads a model file with options: {@code options} fixes input shapes the file leaves open
   * (ONNX symbolic dimensions); for a TFLite file they must match its static shapes.
   */
  public static Model load(Path path, LoadOptions options) {
    Args.notNull(path, "path", "Kiln.load(path, options)", "the model file's path, e.g. Path.of(\"models/digits_cnn_int8.tflite\")");
    Args.notNull(options, "options", "Kiln.load(path, options)", "LoadOptions.defaults() or LoadOptions.inputShape(name, dims...)");
    if (!Files.exists(path)) throw new KilnException(path + ": no such file");
    if (Files.isDirectory(path)) throw new KilnException(path + ": is a folder, not a model file");
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    byte[] head = head(path);
    boolean tflite = head.length == 8 && head[4] == 'T' && head[5] == 'F' && head[6] == 'L' && head[7] == '3';
    boolean onnx = !tflite && (name.endsWith(".onnx") || !name.endsWith(".tflite") && OnnxReader.looksLikeOnnx(head));
    try {
      if (onnx) {
        Map<String, OnnxReader.FixedValue> fixed = new LinkedHashMap<>();
        options.constantInputs().forEach((k, t) -> fixed.put(k, new OnnxReader.FixedValue(t.shape(), t.dtype(), t.bytes())));
        return new Model(OnnxReader.read(path, options.inputShapes(), fixed), "onnx");
      }
      if (!options.constantInputs().isEmpty()) {
        throw new KilnException(path + ": constant inputs (" + String.join(", ", options.constantInputs().keySet()) + ") apply to ONNX"
            + " models; a TFLite model's constants are in the file already");
      }
      Graph g = TfliteReader.read(path);
      checkStaticShapes(path, g, options.inputShapes());
      return new Model(g, "tflite");
    } catch (ModelFormatException e) {
      throw new KilnException(e.getMessage(), e);
    }
  }

  /**
   * Starts a comparison of {@code models} (from {@link #load}): choose executors, devices, inputs and
   * references on the returned builder, then {@code run()}. By default each model is built for the
   * graph executor and AoT (C interface, unpacked), run on {@code Device.host()} on the
   * {@code sample*_in*.npy} beside its file and checked against the {@code sample*_out*.npy}.
   */
  public static Comparison.Builder compare(Model... models) { return Comparison.of(models); }

  /** As {@link #compare(Model...)}, loading each model file first. */
  public static Comparison.Builder compare(String... paths) {
    Args.notNull(paths, "paths", "Kiln.compare(paths...)", "model files, e.g. \"models/digits_cnn_int8.tflite\"");
    Model[] models = new Model[paths.length];
    for (int i = 0; i < paths.length; i++) models[i] = load(paths[i]);
    return Comparison.of(models);
  }

  /** Compares builds made already ({@code model.build(...)}), each as it is. */
  public static Comparison.Builder compare(Build... builds) {
    Args.notNull(builds, "builds", "Kiln.compare(builds...)", "builds such as model.build(Executor.graph())");
    return Comparison.of().executors(builds);
  }

  /** TFLite inputs are static: a given shape must be the model's own. */
  private static void checkStaticShapes(Path path, Graph g, Map<String, int[]> shapes) {
    for (Map.Entry<String, int[]> e : shapes.entrySet()) {
      Tensor t = g.inputs().stream().filter(i -> i.name().equals(e.getKey()) || i.cName().equals(e.getKey())).findFirst()
          .orElseThrow(() -> new KilnException(path + ": an input shape was given for '" + e.getKey() + "', but the model has no"
              + " such input; its inputs are: " + g.inputs().stream().map(Tensor::toString).toList()));
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new KilnException(path + ": input '" + t.name() + "' of this TFLite model has the fixed shape "
            + Arrays.toString(t.shape()) + "; it cannot be compiled for " + Arrays.toString(e.getValue()));
      }
    }
  }

  private static byte[] head(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(8);
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
