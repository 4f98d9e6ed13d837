package dev.kiln.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.project.CWarnings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The device runtime's CRC-16 in each of its builds against the bitwise definition: byte-wise (boards),
 * slicing-by-16 tables, and on an x86-64 host with PCLMULQDQ the carry-less folding the host platform
 * uses for long runs (and the 512-bit folding from 1 KiB where the CPU has VPCLMULQDQ); every length
 * 0..300 at 17 offsets (each fold width, remainder and alignment), every length 1000..1300, lengths
 * up to 70,000 in steps of 997, then 4 KiB, 64 KiB and 70,000 bytes, each from a different running CRC.
 */
class DeviceCrcTest {
  private static final Path CRT = Path.of("src/main/c/crt").toAbsolutePath();

  @ParameterizedTest
  @ValueSource(strings = {"-DKILN_CRC_SLICES=1", "-DKILN_CRC_SLICES=16 -DKILN_CRC_CLMUL=0", "-DKILN_CRC_SLICES=16"})
  void everyBuildAgreesWithTheBitwiseDefinition(String defines, @TempDir Path dir) throws Exception {
    Path source = dir.resolve("crc_check.c");
    try (InputStream in = DeviceCrcTest.class.getResourceAsStream("/dev/kiln/rpc/crc_check.c")) {
      Files.copy(in, source);
    }
    List<String> cmd = new ArrayList<>(List.of("gcc"));
    cmd.addAll(CWarnings.STRICT);
    cmd.add("-O2");
    cmd.addAll(Arrays.asList(defines.split(" ")));
    cmd.addAll(List.of("-I" + CRT, source.toString(), CRT.resolve("kiln_framing.c").toString(), "-o",
        dir.resolve("crc_check").toString()));
    assertEquals("", run(cmd, dir).trim(), "gcc " + defines);
    String[] lines = run(List.of(dir.resolve("crc_check").toString()), dir).split("\n");

    byte[] data = new byte[70000];
    int[] x = {1};
    for (int i = 0; i < data.length; i++) data[i] = (byte) lcg(x);
    int checked = 0;
    for (String line : lines) {
      String[] f = line.trim().split(" ");
      int off = Integer.parseInt(f[0]);
      int len = Integer.parseInt(f[1]);
      int init = Integer.parseInt(f[2]);
      int expected = FramingTest.slowCrc(init, Arrays.copyOfRange(data, off, off + len));
      assertEquals(expected, Integer.parseInt(f[3]), defines + ": off " + off + " len " + len + " init " + init);
      checked++;
    }
    assertEquals(17 * 301 + 301 + (70000 - 9 - 2000) / 997 + 1 + 3, checked, "cases printed");
  }

  private static int lcg(int[] x) {
    x[0] = x[0] * 1103515245 + 12345;
    return x[0] >>> 16;
  }

  private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " did not finish within 60 s");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + text);
    return text;
  }
}
