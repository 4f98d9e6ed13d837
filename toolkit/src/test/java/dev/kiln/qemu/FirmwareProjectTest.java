package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln project}: the folder alone builds with make (and CMake) for the MPS2 AN386 example
 * board, and the firmware, booted in QEMU, is driven by Kiln over its UART like any board: outputs
 * bit-exact, the graph JSON linked because it does not fit a 2 KiB packet. The board to fill refuses
 * to build until it is filled.
 */
class FirmwareProjectTest {
  @Test void theProjectFolderAloneBuildsForMps2An386AndRunsInQemuDrivenByKiln(@TempDir Path tmp) throws Exception {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc") && QemuDeviceTest.onPath("make"),
        "qemu-system-arm, arm-none-eabi-gcc and make are needed");
    // the anomaly detector: its graph JSON (2.5 KiB compact) does not fit the 2 KiB packet, so it is linked
    Case c = ReferenceModels.shared("tflite", "mlperf_ad_int8");
    dev.kiln.api.Model model = Kiln.load(c.modelFile());
    Build build = model.build(Executor.graph());
    Path dir = build.firmwareProject(tmp.resolve("ad-fw"), "cortex-m");
    for (String f : List.of("Makefile", "CMakeLists.txt", "README.md", "platform/board/board.c", "platform/board/linker.ld",
        "platform/common/kiln_board.h", "platform/common/kiln_mcu_main.c", "platform/qemu-mps2-an386/linker.ld",
        "model/src/kiln_linked_graph.c", "runtime/crt/kiln_runtime.c", "runtime/executors/kiln_graph_executor.c")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), f);
    }
    String readme = Files.readString(dir.resolve("README.md"));
    assertTrue(readme.contains("kiln_board_uart_write") && readme.contains("kiln_board_time_ns") && readme.contains("kiln_board_stop"), readme);

    // the board to fill does not build until it is filled
    Run unfilled = run(dir, List.of("make"));
    assertNotEquals(0, unfilled.exit);
    assertTrue(unfilled.output.contains("fill in the UART, timer and stop hooks"), unfilled.output);

    Run make = run(dir, List.of("make", "BOARD=qemu-mps2-an386"));
    assertEquals(0, make.exit, make.output);
    Path elf = dir.resolve("build/qemu-mps2-an386/firmware.elf");
    assertTrue(Files.isRegularFile(elf));

    try (DeviceSession dev = build.flash(Device.qemu("mps2-an386").firmware(elf))) {
      assertTrue(dev.graphJsonLinked(), "a graph JSON over 2 KiB is linked into the project's firmware");
      for (int s : c.samples()) {
        var in = model.inputs().get(0);
        Tensor out = dev.executor().setInput(s % 2 == 0 ? in.name() : in.cName(), Tensor.load(c.input(s, 0))).run().getOutput(0);
        assertNull(c.mismatch(0, out, Tensor.load(c.output(s, 0))), "sample " + s);
      }
      long a = dev.timeEvaluator().instructions();
      assertEquals(a, dev.timeEvaluator().instructions(), "the instruction count is the same twice");
    }

    if (QemuDeviceTest.onPath("cmake")) {
      Run configure = run(dir, List.of("cmake", "-B", "cmake-build", "-DBOARD=qemu-mps2-an386"));
      assertEquals(0, configure.exit, configure.output);
      Run cmake = run(dir, List.of("cmake", "--build", "cmake-build"));
      assertEquals(0, cmake.exit, cmake.output);
      assertTrue(Files.isRegularFile(dir.resolve("cmake-build/firmware.elf")));
    }
  }

  record Run(int exit, String output) {}

  static Run run(Path dir, List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Run(-1, "timed out: " + cmd + "\n" + out);
    }
    return new Run(p.exitValue(), out);
  }
}
