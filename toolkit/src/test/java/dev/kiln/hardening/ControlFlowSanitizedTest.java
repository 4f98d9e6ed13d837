package dev.kiln.hardening;

import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.Compiler;
import dev.kiln.frontend.tflite.TfliteReader;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
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
    SanitizedModelsTest.runSanitized(c, writer);
  }
}
