package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Graph;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads a TensorFlow Lite flatbuffer ({@code .tflite}, schema version 3) into an {@link Graph}.
 *
 * <p>Promises: the file is read with a hand-written, bounds-checked reader (no generated code), so
 * any file, however broken, yields either a valid graph or a {@link ModelFormatException} whose
 * one-sentence message names the file, the field or operator and what was expected; no other
 * exception escapes. Tensors keep the model's order and names; I/O order is the subgraph's;
 * signature keys become aliases; SAME/VALID padding arrives resolved to explicit counts.
 */
public final class TfliteReader {
  private TfliteReader() {}

  /** Reads a model file; the graph is named after the file without its extension. */
  public static Graph read(Path file) throws ModelFormatException {
    Objects.requireNonNull(file, "file");
    return decode(file.toString(), baseName(file), readBytes(file));
  }

  /**
   * Reads a model from memory; {@code displayName} (a path or file name) names the graph and
   * appears in every error message.
   */
  public static Graph read(String displayName, byte[] bytes) throws ModelFormatException {
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(bytes, "bytes");
    Path asPath;
    try {
      asPath = Path.of(displayName);
    } catch (RuntimeException notAPath) {
      asPath = null;
    }
    return decode(displayName, asPath == null ? displayName : baseName(asPath), bytes);
  }

  private static Graph decode(String file, String graphName, byte[] bytes) throws ModelFormatException {
    try {
      dev.kiln.ir.Graph g = new ModelDecoder(file, graphName, bytes).decode();
      dev.kiln.frontend.ModelLimits.checkGraph(file, g);
      return g;
    } catch (ModelFormatException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // A gap in the explicit checks; still the promised exception type, with the cause kept for --debug.
      throw new ModelFormatException(file, "truncated or corrupt: the file could not be decoded (" + e + ")", e);
    }
  }

  private static byte[] readBytes(Path file) throws ModelFormatException {
    String shown = file.toString();
    try {
      if (Files.isDirectory(file)) throw new ModelFormatException(shown, "is a directory, not a model file");
      dev.kiln.frontend.ModelLimits.checkFileSize(shown, "model file", Files.size(file)); // before reading any of it
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(shown, "cannot read the model: no such file (looked for " + file.toAbsolutePath() + ")");
    } catch (AccessDeniedException e) {
      throw new ModelFormatException(shown, "cannot read the model: permission denied");
    } catch (IOException | RuntimeException e) {
      throw new ModelFormatException(shown, "cannot read the model: " + e.getMessage(), e);
    }
  }

  /** {@code models/digits.tflite} → {@code digits}; a name without a dot stays whole. */
  private static String baseName(Path file) {
    Path last = file.getFileName();
    String name = last == null ? file.toString() : last.toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
