package dev.kiln.frontend.tflite;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Finds the team's reference models: {@code -Dkiln.shared} (set by the pom), else ../../shared. */
final class SharedModels {
  private SharedModels() {}

  static Path root() {
    String prop = System.getProperty("kiln.shared");
    Path shared = prop != null ? Path.of(prop) : Path.of("..", "..", "shared");
    return shared.resolve("models").normalize();
  }

  /** Every .tflite file under shared/models, sorted. */
  static List<Path> tfliteFiles() {
    try (Stream<Path> files = Files.walk(root())) {
      return files.filter(p -> p.toString().endsWith(".tflite")).sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root(), e);
    }
  }

  static Path model(String folder) {
    try (Stream<Path> files = Files.list(root().resolve(folder))) {
      return files.filter(p -> p.toString().endsWith(".tflite")).findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] bytes(String folder) {
    try {
      return Files.readAllBytes(model(folder));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
