package dev.kiln.qemu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Executor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Control flow and state on a Cortex-M4F under QEMU (mps2-an386, arm-none-eabi-gcc): the Keras LSTM
 * and GRU loops (one of them stateful), the data-dependent loop, the int8 cond and the variable counter, every sample in
 * order in one session, through the graph executor and the AoT C interface.
 */
class ControlFlowQemuTest {
  private static final List<String> CASES = List.of("lstm_kws_float", "gru_float", "while_data_float", "cond_int8",
      "var_counter_float", "gru_stateful_float");

  @BeforeAll static void needsQemu() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds qemu-system-arm and gcc-arm-none-eabi)");
  }

  static Stream<Arguments> cases() {
    return ReferenceModels.opFixtures().stream().filter(c -> CASES.contains(c.name())
            && c.folder().getParent().getFileName().toString().equals("ops-control"))
        .flatMap(c -> Stream.of(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true)).map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0} on mps2-an386, {1}")
  @MethodSource("cases")
  void controlFlowModelsRunOnACortexM4(Case c, Executor executor) {
    QemuDeviceTest.assertRunsOnBoard(c, executor, QemuDeviceTest.AN386);
  }
}
