package dev.kiln.hardening.fuzz;

import dev.kiln.frontend.onnx.OnnxReader;
import java.util.Map;

/** Jazzer target: a mutated .onnx file through the reader, the compiler and the C writers. */
public final class OnnxReaderFuzzer {
  private OnnxReaderFuzzer() {}

  public static void fuzzerInitialize() { ModelFuzzing.summaryAtExit("onnx"); }

  public static void fuzzerTestOneInput(byte[] data) {
    ModelFuzzing.exercise(d -> OnnxReader.read("fuzz.onnx", d, Map.of()), data);
  }
}
