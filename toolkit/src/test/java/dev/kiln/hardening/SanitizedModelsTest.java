package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Tensor;
import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.Compiler;
import dev.kiln.frontend.onnx.OnnxReader;
import dev.kiln.frontend.tflite.TfliteReader;
import dev.kiln.ir.Graph;
import dev.kiln.micro.AotExecutor;
import dev.kiln.micro.Session;
import dev.kiln.project.DeviceProgram;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import dev.kiln.transport.ProcessTransport;
import dev.kiln.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shared model's device program (its generated C, the runtime, the executors) built with
 * {@code -fsanitize=address,undefined -fno-sanitize-recover=all} on top of the strict warnings, run
 * over RPC through the AoT executor on every sample: outputs must match the reference engine and
 * the sanitizers must report nothing (a report ends the program, so the session fails with its
 * text). The AoT C interface with unpacked operators is the build that runs generated C most
 * directly, the way firmware calls it.
 */
class SanitizedModelsTest {
  static final List<String> SANITIZE = List.of("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer");
  static final Path CACHE = Path.of(System.getProperty("java.io.tmpdir"), "kiln-sanitized-cache-" + System.getProperty("user.name", "u"));

  static Stream<Case> sharedModels() {
    return Stream.concat(ReferenceModels.shared("tflite").stream(), ReferenceModels.shared("onnx").stream());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sharedModels")
  void theSanitizedDeviceProgramMatchesTheReferenceAndReportsNothing(Case c) throws Exception {
    Graph g = c.format().equals("onnx") ? OnnxReader.read(c.modelFile(), c.loadOptions().inputShapes()) : TfliteReader.read(c.modelFile());
    DeviceModelWriter writer = new DeviceModelWriter(Compiler.compile(g, Kernels.support()), ExecutorConfig.aot("c", true, "default"));
    runSanitized(c, writer);
  }

  /**
   * Builds {@code writer}'s AoT program with ASan and UBSan, runs every sample of {@code c} through it
   * over RPC against the reference, and asserts the sanitizers (and stderr) said nothing.
   */
  static void runSanitized(Case c, DeviceModelWriter writer) throws Exception {
    DeviceProgram program = DeviceProgram.build(writer.files(), DeviceProgram.Sizes.of(writer), CACHE, SANITIZE);
    ProcessBuilder pb = new ProcessBuilder(program.executable().toString());
    pb.environment().put("ASAN_OPTIONS", "abort_on_error=0:exitcode=86");
    pb.environment().put("UBSAN_OPTIONS", "print_stacktrace=1:exitcode=87");
    ProcessTransport link = (ProcessTransport) Transport.process(pb);
    RpcOptions options = RpcOptions.builder().replyTimeout(Duration.ofSeconds(60)).build();
    try (Session s = Session.open(link, options)) {
      AotExecutor ex = AotExecutor.create(s, "default");
      for (int sample : c.samples()) {
        for (int i = 0; i < c.inputCount(); i++) ex.setInput(i, Tensor.load(c.input(sample, i)).bytes());
        ex.run();
        for (int j = 0; j < c.outputCount(); j++) {
          Tensor ref = Tensor.load(c.output(sample, j));
          Tensor got = Tensor.of(ref.dtype(), ref.shape(), ex.getOutput(j));
          assertNull(c.mismatch(j, got, ref), c.name() + " sample " + sample + " output " + j);
        }
      }
    }
    List<String> stderr = link.stderrTail();
    assertTrue(stderr.stream().noneMatch(l -> l.contains("runtime error") || l.contains("Sanitizer")),
        c.name() + ": the sanitizers reported:\n" + String.join("\n", stderr));
    assertEquals(List.of(), stderr.stream().filter(l -> !l.isBlank()).toList(), c.name() + " printed on stderr");
  }
}
