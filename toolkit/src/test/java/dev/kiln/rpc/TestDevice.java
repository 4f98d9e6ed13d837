package dev.kiln.rpc;

import dev.kiln.transport.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The host device program with the test system library, compiled once per test JVM. */
final class TestDevice {
  static final String TEST_SYSLIB = "/dev/kiln/rpc/kiln_test_syslib.c";
  private static Path program;

  private TestDevice() {}

  static synchronized Path program() {
    if (program == null) {
      try {
        Path dir = Files.createTempDirectory("kiln-rpc-device");
        program = HostDeviceBuild.build(dir, TEST_SYSLIB, List.of());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
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
