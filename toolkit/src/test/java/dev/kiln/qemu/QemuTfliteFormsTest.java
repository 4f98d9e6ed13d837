package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The LSTM forms, int8 DIV, int8 -> int16 SOFTMAX, INT4 filters and the hybrid EMBEDDING_LOOKUP on the Cortex-M4F (mps2-an386), against the same TFLite
 * reference outputs as on the host: int8 DIV's shifts of 32 and more (undefined in C, taken mod 32 by TF's x86
 * build) are written out in portable C, so the board must give the same codes; the integer LSTM's layer norm and
 * time-major peephole run bit-exact; the float forms stay within tolerance with the target's libm.
 */
class QemuTfliteFormsTest {
  private static final Set<String> NAMES = Set.of("div_int8", "lstm8_layer_norm_int8", "lstm8_all_forms_int8",
      "lstm8_peephole_projection_time_major_int8", "lstm_all_forms_float", "lstm_relu6_peephole_float",
      "embedding_lookup_hybrid_per_row_int8", "softmax_int8_int16", "conv_int4_per_channel_int8", "dwconv_int4_per_channel_int8");

  @BeforeAll static void needsQemu() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds qemu-system-arm and gcc-arm-none-eabi)");
  }

  static Stream<Case> cases() {
    List<Case> cases = ReferenceModels.opFixtures().stream().filter(c -> NAMES.contains(c.name())).toList();
    assertEquals(NAMES.size(), cases.size(), "fixtures found: " + cases);
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void runsOnTheCortexM4AsOnTheHost(Case c) {
    QemuDeviceTest.assertRunsOnBoard(c, Executor.aot(), Device.qemu("mps2-an386"), c.samples());
  }

  @org.junit.jupiter.api.Test
  void aModelWhoseStateCarriesBetweenCallsStillGetsAnInstructionCount() {
    // the LSTM's state changes every call, so rounds differ: the count is a typical call's, not an error
    Case c = cases().filter(k -> k.name().equals("lstm8_all_forms_int8")).findFirst().orElseThrow();
    dev.kiln.api.Build build = dev.kiln.api.Kiln.load(c.modelFile()).build(Executor.aot());
    try (dev.kiln.api.DeviceSession session = build.flash(Device.qemu("mps2-an386"))) {
      long first = session.timeEvaluator().instructions();
      long again = session.timeEvaluator().instructions();
      org.junit.jupiter.api.Assertions.assertTrue(first > 1000 && again > 1000, first + ", " + again);
      org.junit.jupiter.api.Assertions.assertTrue(Math.abs(first - again) < first / 2, "a typical call stays typical: " + first + ", " + again);
    }
  }
}
