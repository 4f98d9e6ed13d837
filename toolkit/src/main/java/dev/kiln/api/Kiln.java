package dev.kiln.api;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.tflite.TfliteReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Where notebooks and the command line start: {@code Kiln.load("model.tflite")}. */
public final class Kiln {
  private Kiln() {}

  public static Model load(String path) { return load(Path.of(path)); }

  /** Reads a model file; the format is told by its content (TFLite's TFL3 identifier), not only its name. */
  public static Model load(Path path) {
    if (!Files.exists(path)) throw new KilnException(path + ": no such file");
    if (Files.isDirectory(path)) throw new KilnException(path + ": is a folder, not a model file");
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean tflite = name.endsWith(".tflite") || hasTfliteIdentifier(path);
    if (!tflite && name.endsWith(".onnx")) {
      throw new KilnException(path + ": ONNX models are not supported by this version of Kiln yet; convert to TFLite or use a .tflite file");
    }
    try {
      return new Model(TfliteReader.read(path), "tflite");
    } catch (ModelFormatException e) {
      throw new KilnException(e.getMessage(), e);
    }
  }

  private static boolean hasTfliteIdentifier(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      byte[] head = in.readNBytes(8);
      return head.length == 8 && head[4] == 'T' && head[5] == 'F' && head[6] == 'L' && head[7] == '3';
    } catch (IOException e) {
      return false;
    }
  }
}
