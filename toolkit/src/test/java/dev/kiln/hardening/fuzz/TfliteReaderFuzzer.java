package dev.kiln.hardening.fuzz;

import dev.kiln.frontend.tflite.TfliteReader;

/** Jazzer target: a mutated .tflite file through the reader, the compiler and the C writers. */
public final class TfliteReaderFuzzer {
  private TfliteReaderFuzzer() {}

  public static void fuzzerInitialize() { ModelFuzzing.summaryAtExit("tflite"); }

  public static void fuzzerTestOneInput(byte[] data) {
    ModelFuzzing.exercise(d -> TfliteReader.read("fuzz.tflite", d), data);
  }
}
