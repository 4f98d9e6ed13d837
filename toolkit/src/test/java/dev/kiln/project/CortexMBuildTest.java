package dev.kiln.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.testing.ReferenceModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generated C and the device runtime compile for a Cortex-M4 (32-bit, hard float) with
 * arm-none-eabi-gcc and strict warnings: the standalone AoT C interface, and the device library of
 * the graph and AoT executors together with runtime/crt and runtime/executors.
 */
class CortexMBuildTest {
  static final List<String> CORTEX_M4 = cortexM4();

  private static List<String> cortexM4() {
    List<String> cmd = new java.util.ArrayList<>(List.of("arm-none-eabi-gcc", "-O2", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
        "-mfpu=fpv4-sp-d16"));
    cmd.addAll(CWarnings.STRICT);
    cmd.add("-c");
    return List.copyOf(cmd);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"digits_cnn_int8", "mlperf_kws_float", "mlperf_vww_int8"})
  void generatedCodeAndRuntimeCompileForCortexM4(String name, @TempDir Path tmp) throws Exception {
    assumeTrue(onPath("arm-none-eabi-gcc"), "arm-none-eabi-gcc is not installed (./install adds gcc-arm-none-eabi)");
    var model = Kiln.load(ReferenceModels.shared("tflite", name).modelFile());
    Path standalone = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).exportTo(tmp.resolve("c"));
    compileAll(standalone, List.of(), tmp.resolve("o-c"));
    Path runtime = runtimeSources(tmp.resolve("runtime"));
    for (Executor ex : List.of(Executor.graph(), Executor.aot())) {
      Build build = model.build(ex);
      Path lib = build.exportTo(tmp.resolve(ex.kind().name()));
      compileAll(lib, List.of(runtime.resolve("crt"), runtime.resolve("executors")), tmp.resolve("o-" + ex.kind()));
    }
    List<Path> runtimeFiles = new ArrayList<>();
    for (String dir : List.of("crt", "executors")) {
      try (Stream<Path> s = Files.list(runtime.resolve(dir))) {
        s.filter(p -> p.toString().endsWith(".c")).forEach(runtimeFiles::add);
      }
    }
    for (Path c : runtimeFiles) {
      compile(c, List.of(runtime.resolve("crt"), runtime.resolve("executors")), tmp.resolve("o-rt"));
    }
  }

  private static void compileAll(Path lib, List<Path> includes, Path out) throws IOException, InterruptedException {
    List<Path> includeDirs = new ArrayList<>(List.of(lib.resolve("codegen/host/include")));
    includeDirs.addAll(includes);
    try (Stream<Path> s = Files.list(lib.resolve("codegen/host/src"))) {
      for (Path c : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".c")).sorted()::iterator) compile(c, includeDirs, out);
    }
  }

  private static void compile(Path source, List<Path> includes, Path out) throws IOException, InterruptedException {
    Files.createDirectories(out);
    List<String> cmd = new ArrayList<>(CORTEX_M4);
    for (Path i : includes) cmd.addAll(List.of("-I", i.toString()));
    cmd.addAll(List.of(source.toString(), "-o", out.resolve(source.getFileName() + ".o").toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(true, p.waitFor(120, TimeUnit.SECONDS), "arm-none-eabi-gcc timed out on " + source);
    assertEquals(0, p.exitValue(), source.getFileName() + ":\n" + text);
  }

  /** Copies the device runtime's C sources out of the class path (they ship as resources). */
  private static Path runtimeSources(Path dir) throws IOException {
    for (String sub : List.of("crt", "executors")) {
      Path from = Path.of("src/main/c", sub);
      Path to = Files.createDirectories(dir.resolve(sub));
      try (Stream<Path> s = Files.list(from)) {
        for (Path f : (Iterable<Path>) s::iterator) Files.copy(f, to.resolve(f.getFileName()));
      }
    }
    return dir;
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) if (Files.isExecutable(Path.of(d, tool))) return true;
    return false;
  }
}
