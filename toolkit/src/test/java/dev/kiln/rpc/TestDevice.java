package dev.kiln.rpc;

import dev.kiln.codegen.GeneratedFile;
import dev.kiln.project.DeviceProgram;
import dev.kiln.transport.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** The host device program with the test system library, compiled once per test JVM. */
final class TestDevice {
  static final String TEST_SYSLIB = "/dev/kiln/rpc/kiln_test_syslib.c";
  private static final java.util.Map<Integer, Path> PROGRAMS = new java.util.HashMap<>();

  private TestDevice() {}

  static Path program() { return program(2048); }

  /** The program with a receive buffer of {@code packetBytes} (KILN_MAX_PACKET_BYTES). */
  static synchronized Path program(int packetBytes) {
    Path program = PROGRAMS.get(packetBytes);
    if (program == null) {
      try {
        String syslib;
        try (var in = TestDevice.class.getResourceAsStream(TEST_SYSLIB)) {
          syslib = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        program = DeviceProgram.build(List.of(new GeneratedFile("src/kiln_test_syslib.c", syslib)),
            new DeviceProgram.Sizes(packetBytes, 2L << 20), Path.of(System.getProperty("java.io.tmpdir"), "kiln-device-test-cache"))
            .executable();
        PROGRAMS.put(packetBytes, program);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return program;
  }

  static Transport start(String... extraArgs) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(List.of(program().toString()));
    cmd.addAll(List.of(extraArgs));
    return Transport.process(cmd);
  }
}
