package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.hardening.fuzz.OnnxReaderFuzzer;
import dev.kiln.hardening.fuzz.TfliteReaderFuzzer;
import dev.kiln.testing.ReferenceModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TFLite and ONNX readers (and the compiler and C writers behind them) under Jazzer, seeded
 * with the shared models and the op fixtures. Every run replays the committed regression corpus
 * ({@code src/test/resources/fuzz/<format>-reader/}) in process, then fuzzes each format for
 * {@code kiln.fuzz.seconds} (25) in a child JVM running Jazzer's driver. A mutant may be refused
 * only with Kiln's own exceptions (see {@code ModelFuzzing}); anything else fails the test with
 * the reproducer Jazzer saved. The long campaign, merging new coverage into the corpus:
 * <pre>
 * mvn -o test -pl toolkit -Dtest=ModelReaderFuzzTest -Dkiln.fuzz.seconds=3600 -Dkiln.fuzz.merge=true
 * </pre>
 */
class ModelReaderFuzzTest {
  static final int SECONDS = Integer.getInteger("kiln.fuzz.seconds", 25);
  static final boolean MERGE = Boolean.getBoolean("kiln.fuzz.merge");
  /** Committed corpus inputs stay small; the seeds (models up to 1 MiB) are found again from ../shared. */
  static final long MAX_CORPUS_FILE = 64 << 10;
  private static final Pattern EXECUTED = Pattern.compile("stat::number_of_executed_units:\\s*(\\d+)");
  private static final Pattern SUMMARY = Pattern.compile("kiln-fuzz \\w+: .*");

  @TempDir Path tmp;

  static Path corpus(String format) { return Path.of("src/test/resources/fuzz/" + format + "-reader").toAbsolutePath(); }

  static Consumer<byte[]> target(String format) {
    return format.equals("tflite") ? TfliteReaderFuzzer::fuzzerTestOneInput : OnnxReaderFuzzer::fuzzerTestOneInput;
  }

  static String targetClass(String format) {
    return (format.equals("tflite") ? TfliteReaderFuzzer.class : OnnxReaderFuzzer.class).getName();
  }

  /** The shared models of the format and its op fixtures, one file each; with {@code maxBytes}, only those that small. */
  static Path seeds(String format, Path dir) throws IOException { return seeds(format, dir, Long.MAX_VALUE); }

  static Path seeds(String format, Path dir, long maxBytes) throws IOException {
    Files.createDirectories(dir);
    List<ReferenceModels.Case> cases = new ArrayList<>(ReferenceModels.shared(format));
    cases.addAll(format.equals("tflite") ? ReferenceModels.opFixtures() : ReferenceModels.onnxFixtures());
    for (ReferenceModels.Case c : cases) {
      Path f = c.modelFile();
      // two fixture families may reuse a case name (transpose_int16): the folder above the case tells them apart
      String family = f.getParent() == null || f.getParent().getParent() == null ? ""
          : f.getParent().getParent().getFileName() + "_";
      Path seed = dir.resolve(family + c.name() + "_" + f.getFileName());
      if (Files.isRegularFile(f) && Files.size(f) <= maxBytes && !Files.exists(seed)) Files.copy(f, seed);
    }
    return dir;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tflite", "onnx"})
  void theRegressionCorpusAndTheSeedsAreReadOrRefusedCleanly(String format) throws Exception {
    List<Path> inputs = new ArrayList<>();
    // the shared models over 64 KiB are read by the conformance tests; here the corpus and the small seeds
    for (Path dir : List.of(corpus(format), seeds(format, tmp.resolve("seeds"), MAX_CORPUS_FILE))) {
      if (!Files.isDirectory(dir)) continue;
      try (Stream<Path> s = Files.list(dir)) {
        s.sorted().forEach(inputs::add);
      }
    }
    assertTrue(inputs.size() > 10, "too few inputs: " + inputs);
    for (Path p : inputs) {
      try {
        target(format).accept(Files.readAllBytes(p));
      } catch (Throwable t) {
        throw new AssertionError(format + " input " + p + " escaped Kiln's exceptions: " + t, t);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tflite", "onnx"})
  void aShortJazzerCampaignFindsNothing(String format) throws Exception {
    // small seeds only: a campaign spends its time mutating, not compiling the 1 MiB models (the regression test reads those)
    Path seeds = seeds(format, tmp.resolve("seeds"), MAX_CORPUS_FILE);
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path corpus = Files.createDirectories(corpus(format));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
        "-cp", System.getProperty("java.class.path"), "com.code_intelligence.jazzer.Jazzer",
        "--target_class=" + targetClass(format), "--instrumentation_includes=dev.kiln.**",
        "--reproducer_path=" + tmp, "-artifact_prefix=" + tmp + "/", "-max_total_time=" + SECONDS, "-print_final_stats=1",
        "-timeout=30", "-rss_limit_mb=4096", "-max_len=" + MAX_CORPUS_FILE, work.toString(), seeds.toString(), corpus.toString()));
    DeviceReceiveFuzzTest.Result r = DeviceReceiveFuzzTest.run(cmd, tmp, Duration.ofSeconds(SECONDS + 180));
    Matcher m = EXECUTED.matcher(r.output());
    long executions = m.find() ? Long.parseLong(m.group(1)) : -1;
    Matcher summary = SUMMARY.matcher(r.output());
    System.out.println(format + " reader: " + executions + " Jazzer executions in " + SECONDS + " s; "
        + (summary.find() ? summary.group() : "(no summary)"));
    assertEquals(0, r.exit(), "Jazzer found an input that escapes Kiln's exceptions (reproducer under " + tmp + "):\n" + r.tail());
    assertTrue(executions > 0, r.tail());
    if (MERGE) {
      List<String> merge = new ArrayList<>(cmd.subList(0, 7));
      merge.addAll(List.of("--instrumentation_includes=dev.kiln.**", "-merge=1", "-max_len=" + MAX_CORPUS_FILE, corpus.toString(),
          work.toString()));
      DeviceReceiveFuzzTest.Result merged = DeviceReceiveFuzzTest.run(merge, tmp, Duration.ofMinutes(20));
      assertEquals(0, merged.exit(), merged.tail());
      try (Stream<Path> s = Files.list(corpus)) {
        for (Path p : (Iterable<Path>) s::iterator) if (Files.size(p) > MAX_CORPUS_FILE) Files.delete(p);
      }
    }
  }
}
