package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Tensor;
import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.Compiler;
import dev.kiln.frontend.tflite.TfliteReader;
import dev.kiln.micro.AotExecutor;
import dev.kiln.micro.Session;
import dev.kiln.project.DeviceProgram;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import dev.kiln.transport.ProcessTransport;
import dev.kiln.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The control-flow fixtures (resources/ops-control) built with ASan and UBSan like {@link
 * SanitizedModelsTest}, through the AoT executor with the inlined loop (C interface, unpacked) and
 * with packed operator functions (the form the graph executor calls): the subgraphs' arenas inside
 * the loop operator's scratch, the staging copies and the variables must stay in bounds, every
 * sample in order must match the reference, and the sanitizers must report nothing.
 */
class ControlFlowSanitizedTest {
  static Stream<Arguments> cases() {
    return ReferenceModels.opFixtures().stream()
        .filter(c -> c.folder().getParent().getFileName().toString().equals("ops-control"))
        .flatMap(c -> Stream.of(ExecutorConfig.aot("c", true, "default"), ExecutorConfig.aot("packed", false, "default"))
            .map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void controlFlowRunsCleanUnderTheSanitizers(Case c, ExecutorConfig config) throws Exception {
    DeviceModelWriter writer = new DeviceModelWriter(Compiler.compile(TfliteReader.read(c.modelFile()), Kernels.support()), config);
    DeviceProgram program = DeviceProgram.build(writer.files(), DeviceProgram.Sizes.of(writer), SanitizedModelsTest.CACHE,
        SanitizedModelsTest.SANITIZE);
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
