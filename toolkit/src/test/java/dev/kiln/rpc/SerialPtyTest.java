package dev.kiln.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The host device behind a real pseudo-terminal (socat), reached through the jSerialComm transport. */
class SerialPtyTest {
  static boolean socatInstalled() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, "socat"))) return true;
    }
    return false;
  }

  @Test void anRpcSessionRunsOverAPseudoTerminal() throws Exception {
    assumeTrue(socatInstalled(), "socat is not installed (apt-get install -y socat); skipping the pty test");
    Path link = Files.createTempDirectory("kiln-pty").resolve("device");
    Process socat = new ProcessBuilder("socat", "PTY,link=" + link + ",raw,echo=0",
        "EXEC:" + TestDevice.program()).redirectErrorStream(true).start();
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!Files.exists(link) && System.nanoTime() < end) Thread.sleep(10);
      assumeTrue(Files.exists(link), "socat did not create " + link);
      RpcOptions o = RpcOptions.builder().handshakeRetry(Duration.ofMillis(200)).handshakeTimeout(Duration.ofSeconds(5)).build();
      try (RpcClient c = RpcClient.open(Transport.serial(link.toString(), 115200), o)) {
        assertEquals(42L, c.function("kiln_add_int").callLong(40, 2));
        byte[] data = new byte[64 << 10];
        new Random(3).nextBytes(data);
        try (RemoteNDArray a = c.array(data, new long[] {data.length}, DataType.UINT8)) {
          assertArrayEquals(data, a.toByteArray());
        }
        c.shutdown();
      }
    } finally {
      socat.destroyForcibly();
      socat.waitFor(2, TimeUnit.SECONDS);
    }
  }
}
