package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Model folders in the shared layout ({@code manifest.json}, the model file,
 * {@code sample<s>_in<i>.npy}, {@code sample<s>_out<j>.npy}): the shared reference models and
 * the op-by-op fixtures under {@code src/test/resources/ops}.
 */
public final class ReferenceModels {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReferenceModels() {}

  /** One model folder and its manifest. */
  public record Case(String name, Path folder, JsonNode manifest) {
    public Path modelFile() { return folder.resolve(manifest.get("file").asText()); }

    public String format() { return manifest.path("format").asText("tflite"); }

    public int inputCount() { return manifest.get("inputs").size(); }

    public int outputCount() { return manifest.get("outputs").size(); }

    /** Sample numbers present on disk: 0, 1, 2... */
    public List<Integer> samples() {
      List<Integer> s = new ArrayList<>();
      for (int i = 0; Files.exists(folder.resolve("sample" + i + "_in0.npy")); i++) s.add(i);
      return s;
    }

    public Path input(int sample, int i) { return folder.resolve("sample" + sample + "_in" + i + ".npy"); }

    public Path output(int sample, int j) { return folder.resolve("sample" + sample + "_out" + j + ".npy"); }

    @Override public String toString() { return name; }
  }

  /** The shared models folder ({@code -Dkiln.shared}, else {@code ../../shared} from the toolkit). */
  public static Path sharedRoot() {
    String prop = System.getProperty("kiln.shared");
    Path p = prop != null ? Path.of(prop) : Path.of("../../shared");
    return p.toAbsolutePath().normalize();
  }

  public static List<Case> shared(String format) { return cases(sharedRoot().resolve("models"), format); }

  public static List<Case> opFixtures() { return cases(Path.of("src/test/resources/ops").toAbsolutePath(), "tflite"); }

  public static Case shared(String format, String name) {
    return shared(format).stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalStateException("shared model " + name + " not found under " + sharedRoot()));
  }

  private static List<Case> cases(Path root, String format) {
    List<Case> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        Path m = d.resolve("manifest.json");
        if (!Files.exists(m)) continue;
        JsonNode manifest = JSON.readTree(m.toFile());
        if (manifest.path("format").asText("tflite").equals(format)) out.add(new Case(d.getFileName().toString(), d, manifest));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
