package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --device qemu:BOARD[,tcp]} on kiln run and verify; a wrong board name is one line naming the boards. */
class QemuCommandLineTest {
  static CommandLineTest.Result kiln(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CommandLineTest.Result(status, out.toString(), err.toString());
  }

  @Test void runAndVerifyTakeAQemuBoard(@TempDir Path tmp) throws Exception {
    assumeTrue(onPath("qemu-system-arm") && onPath("arm-none-eabi-gcc"), "QEMU not installed");
    var seed = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Path out = tmp.resolve("out");
    CommandLineTest.Result r = kiln("run", seed.modelFile().toString(), "--executor", "graph", "--device", "qemu:mps2-an386,tcp",
        "--input", "predict_images:0=" + seed.input(2, 0), "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    assertEquals(Tensor.load(seed.output(2, 0)), Tensor.load(out.resolve("output0.npy")));
    CommandLineTest.Result v = kiln("verify", seed.modelFile().toString(), "--device", "qemu:mps2-an386");
    assertEquals(0, v.status(), v.out() + v.err());
    assertTrue(v.out().contains("on qemu(qemu-system-arm -M mps2-an386") && v.out().contains("all outputs match the reference"), v.out());
    CommandLineTest.Result bad = kiln("run", seed.modelFile().toString(), "--device", "qemu:stm32", "--input",
        "predict_images:0=" + seed.input(0, 0), "-o", tmp.resolve("bad").toString());
    assertEquals(1, bad.status());
    assertEquals("kiln: error: no QEMU board named 'stm32'; choose one of mps2-an385, mps2-an386, mps2-an505, microbit, riscv32-virt\n",
        bad.err());
    assertTrue(!Files.exists(tmp.resolve("bad")));
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) if (Files.isExecutable(Path.of(d, tool))) return true;
    return false;
  }
}
