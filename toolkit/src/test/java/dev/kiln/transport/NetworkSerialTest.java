package dev.kiln.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnDeviceException;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.testing.ReferenceModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boards behind a network: the digits model's host device program behind a socat pseudo-terminal
 * (the board's UART), exported by a local ser2net (Debian's) as an RFC 2217 telnet port and as a raw
 * TCP port, driven with {@code Device.serial("rfc2217://...")} and {@code Device.serial("tcp://...")}
 * exactly as a notebook would. Outside CI a machine without ser2net or socat skips; in CI (the
 * {@code CI} environment variable, which .ci/run sets) it fails, since ./install provides both.
 */
class NetworkSerialTest {
  static Model model;
  static Build build;
  static Tensor image;
  static Tensor reference;

  @TempDir Path tmp;
  Process socat;
  Process ser2net;

  @BeforeAll static void load() {
    var seed = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(seed.modelFile());
    build = model.build(Executor.aot());
    image = Tensor.load(seed.input(0, 0));
    reference = Tensor.load(seed.output(0, 0));
  }

  static boolean installed(String tool) {
    for (String dir : (System.getenv().getOrDefault("PATH", "/usr/bin") + ":/usr/sbin:/sbin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) return true;
    }
    return false;
  }

  static void requireTool(String tool) {
    boolean ci = System.getenv("CI") != null;
    if (ci) assertTrue(installed(tool), tool + " is not installed but CI runs ./install, which installs it");
    assumeTrue(installed(tool), tool + " is not installed (apt-get install -y " + tool + "); skipping");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** socat: a pty whose other side is the device program; then ser2net with an RFC 2217 and a raw accepter. */
  int[] startBoardBehindSer2net() throws Exception {
    requireTool("socat");
    requireTool("ser2net");
    Path program = build.deviceProgram().executable();
    Path link = tmp.resolve("uart");
    socat = new ProcessBuilder("socat", "PTY,link=" + link + ",raw,echo=0", "EXEC:" + program)
        .redirectErrorStream(true).redirectOutput(tmp.resolve("socat.log").toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!Files.exists(link) && System.nanoTime() < end) Thread.sleep(10);
    assertTrue(Files.exists(link), "socat did not create " + link + " within 5 s");
    int rfc = freePort();
    int raw = freePort();
    String pts = link.toRealPath().toString();
    String yaml = "connection: &rfc2217\n"
        + "  accepter: telnet(rfc2217),tcp(nodelay=true),127.0.0.1," + rfc + "\n"
        + "  connector: serialdev," + pts + ",115200n81,local\n"
        + "connection: &raw\n"
        + "  accepter: tcp(nodelay=true),127.0.0.1," + raw + "\n"
        + "  connector: serialdev," + pts + ",115200n81,local\n";
    Path config = Files.writeString(tmp.resolve("ser2net.yaml"), yaml);
    ser2net = new ProcessBuilder("ser2net", "-n", "-P", tmp.resolve("ser2net.pid").toString(), "-c", config.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("ser2net.log").toFile()).start();
    // ready when both ports accept connections
    for (int port : new int[] {rfc, raw}) {
      end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      boolean up = false;
      while (!up && System.nanoTime() < end) {
        try (var s = new java.net.Socket("127.0.0.1", port)) {
          up = true;
        } catch (IOException e) {
          Thread.sleep(20);
        }
      }
      assertTrue(up, "ser2net did not listen on " + port + " within 5 s: " + Files.readString(tmp.resolve("ser2net.log")));
    }
    Thread.sleep(200); // ser2net releases the port after the probe connections
    return new int[] {rfc, raw};
  }

  @AfterEach void stop() throws InterruptedException {
    for (Process p : new Process[] {ser2net, socat}) {
      if (p == null) continue;
      p.destroy();
      if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
    }
  }

  private static void runsTheModel(Device device) {
    try (DeviceSession dev = build.flash(device.timeout(Duration.ofSeconds(10)))) {
      ModelExecutor ex = dev.executor();
      ex.setInput("predict_images:0", image).run();
      assertNull(Tolerance.mismatch(ex.getOutput(0), reference), device.toString());
      ex.setInput("predict_images_0", image).run();
      assertNull(Tolerance.mismatch(ex.getOutput("StatefulPartitionedCall:0"), reference), device.toString());
      assertTrue(dev.timeEvaluator().repeat(2).measure().medianMicros() > 0);
    }
  }

  @Test void aModelRunsOnABoardOnASerialLineGivenByPathAndBaudRate() throws Exception {
    requireTool("socat");
    Path link = tmp.resolve("ttyACM0");
    socat = new ProcessBuilder("socat", "PTY,link=" + link + ",raw,echo=0", "EXEC:" + build.deviceProgram().executable())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("socat.log").toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!Files.exists(link) && System.nanoTime() < end) Thread.sleep(10);
    assertTrue(Files.exists(link), "socat did not create " + link + " within 5 s");
    runsTheModel(Device.serial(link.toString(), 115200));
  }

  @Test void aModelRunsOnABoardBehindAnRfc2217Server() throws Exception {
    int[] ports = startBoardBehindSer2net();
    runsTheModel(Device.serial("rfc2217://127.0.0.1:" + ports[0], 115200));
  }

  @Test void aModelRunsOnABoardBehindARawTcpSerialServer() throws Exception {
    int[] ports = startBoardBehindSer2net();
    runsTheModel(Device.serial("tcp://127.0.0.1:" + ports[1]));
  }

  @Test void rfc2217AgainstAServerThatNeverNegotiatesFailsWithinTheTimeoutSayingSo() throws Exception {
    // a TCP server that accepts and stays silent, as a raw serial port with a quiet board does
    try (ServerSocket server = new ServerSocket(0)) {
      Thread accept = new Thread(() -> {
        try (var s = server.accept()) {
          s.getInputStream().readAllBytes();
        } catch (IOException ignored) {
          // the client hung up
        }
      });
      accept.setDaemon(true);
      accept.start();
      long start = System.nanoTime();
      KilnDeviceException e = assertThrows(KilnDeviceException.class,
          () -> build.flash(Device.serial("rfc2217://127.0.0.1:" + server.getLocalPort()).timeout(Duration.ofSeconds(2))).close());
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(e.getMessage().contains("did not agree to COM-PORT-OPTION within 2 s"), e.getMessage());
      assertTrue(e.getMessage().contains("tcp://host:port"), e.getMessage());
      assertTrue(ms < 6000, "took " + ms + " ms");
    }
  }

  @Test void aMalformedNetworkAddressNamesTheExpectedForm() {
    KilnDeviceException e = assertThrows(KilnDeviceException.class,
        () -> build.flash(Device.serial("rfc2217://localhost")).close());
    assertTrue(e.getMessage().contains("'rfc2217://localhost' is not rfc2217://HOST:PORT"), e.getMessage());
  }

  @Test void dataWithEveryByteValueCrossesTheTelnetLayerIntact() throws Exception {
    // the board side is a plain echo here: every byte value, 0xFF included, must come back as sent
    requireTool("socat");
    requireTool("ser2net");
    Path link = tmp.resolve("echo");
    socat = new ProcessBuilder("socat", "PTY,link=" + link + ",raw,echo=0", "EXEC:cat").redirectErrorStream(true)
        .redirectOutput(tmp.resolve("socat.log").toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!Files.exists(link) && System.nanoTime() < end) Thread.sleep(10);
    int port = freePort();
    Files.writeString(tmp.resolve("e.yaml"), "connection: &echo\n  accepter: telnet(rfc2217),tcp(nodelay=true),127.0.0.1," + port
        + "\n  connector: serialdev," + link.toRealPath() + ",115200n81,local\n", StandardCharsets.UTF_8);
    ser2net = new ProcessBuilder("ser2net", "-n", "-P", tmp.resolve("p").toString(), "-c", tmp.resolve("e.yaml").toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("ser2net.log").toFile()).start();
    Transport t = null;
    end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (t == null) {
      try {
        t = Transport.serialLink("rfc2217://127.0.0.1:" + port, 115200, Duration.ofSeconds(5));
      } catch (LinkClosedException e) {
        if (System.nanoTime() > end) throw e;
        Thread.sleep(20);
      }
    }
    try (Transport link2 = t) {
      byte[] data = new byte[2048];
      for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7 + (i >> 8));
      for (int i = 0; i < 64; i++) data[i * 31] = (byte) 0xFF;
      link2.write(data);
      link2.flush();
      link2.timeout().readTimeout(Duration.ofSeconds(5));
      byte[] back = new byte[data.length];
      int got = 0;
      while (got < back.length) got += link2.read(back, got, back.length - got);
      assertEquals(java.util.HexFormat.of().formatHex(data), java.util.HexFormat.of().formatHex(back));
      assertEquals(115200, ((Rfc2217Transport) link2).baudAcknowledged(), "ser2net acknowledges SET-BAUDRATE on a serial device");
    }
  }
}
