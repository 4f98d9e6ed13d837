package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.project.Platform;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A board behind a network: the mps2-an386 firmware running in QEMU with its UART on a
 * pseudo-terminal, exported by a local ser2net (Debian's) as an RFC 2217 port, and driven with
 * {@code Device.serial("rfc2217://...")} exactly as a remote board would be; two sessions in a row
 * (the firmware waits for the next after the first one's shutdown). Outside CI a machine without
 * ser2net skips; in CI it fails, since ./install provides it.
 */
class QemuSer2netTest {
  private static final Pattern PTY = Pattern.compile("char device redirected to (/dev/pts/\\d+)");

  @TempDir Path tmp;
  Process qemu;
  Process ser2net;

  @AfterEach void stop() throws InterruptedException {
    for (Process p : new Process[] {ser2net, qemu}) {
      if (p == null) continue;
      p.destroy();
      if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
    }
  }

  @Test void aModelRunsOnAQemuBoardBehindSer2netOverRfc2217() throws Exception {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds them)");
    boolean installed = Files.isExecutable(Path.of("/usr/sbin/ser2net")) || QemuDeviceTest.onPath("ser2net");
    if (System.getenv("CI") != null) assertTrue(installed, "ser2net is not installed but CI runs ./install, which installs it");
    assumeTrue(installed, "ser2net is not installed (apt-get install -y ser2net); skipping");
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Model model = Kiln.load(c.modelFile());
    Build build = model.build(Executor.aot());
    Device board = Device.qemu("mps2-an386");
    Path elf = build.deviceProgram(board).executable();

    // QEMU with the firmware, as Device.qemu starts it, its UART on a pseudo-terminal
    List<String> cmd = new ArrayList<>(Platform.named(board.platformName()).qemu());
    cmd.addAll(List.of("-kernel", elf.toString(), "-semihosting-config", "enable=on,target=native",
        "-icount", "shift=" + board.icountShift() + ",sleep=off", "-nodefaults", "-display", "none", "-no-reboot", "-serial", "pty"));
    qemu = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String pts = awaitPty(qemu);

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String yaml = "connection: &board\n"
        + "  accepter: telnet(rfc2217),tcp(nodelay=true),127.0.0.1," + port + "\n"
        + "  connector: serialdev," + pts + ",115200n81,local\n";
    Path config = Files.writeString(tmp.resolve("ser2net.yaml"), yaml);
    ser2net = new ProcessBuilder("ser2net", "-n", "-P", tmp.resolve("ser2net.pid").toString(), "-c", config.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("ser2net.log").toFile()).start();
    awaitListening(port);

    Tensor image = Tensor.load(c.input(1, 0));
    Tensor reference = Tensor.load(c.output(1, 0));
    Device remote = Device.serial("rfc2217://127.0.0.1:" + port, 115200).timeout(Duration.ofSeconds(10));
    for (int session = 0; session < 2; session++) {
      try (DeviceSession dev = flashWhenReady(build, remote)) {
        ModelExecutor ex = dev.executor();
        ex.setInput(session == 0 ? "predict_images:0" : "predict_images_0", image).run();
        assertEquals(reference, ex.getOutput(0), "session " + session + " over " + dev.transport());
        assertTrue(dev.stackHighWater().orElseThrow() > 0, "the board's own stack figure, through ser2net");
      }
    }
    assertTrue(qemu.isAlive(), "the firmware keeps serving after the sessions' shutdowns");
  }

  /**
   * ser2net serves one connection at a time and still closes the previous one (the readiness probe,
   * the last session) for a moment after it ends, refusing a connection that comes meanwhile (it
   * accepts, then closes: seen as a reset or, when our first write lands after its close, as a
   * broken pipe): retry those, and only those, for up to 10 s.
   */
  private static DeviceSession flashWhenReady(Build build, Device remote) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return build.flash(remote);
      } catch (dev.kiln.api.KilnDeviceException e) {
        String why = String.valueOf(e.getMessage());
        boolean refusedByBusyPort = why.contains("Connection reset") || why.contains("Broken pipe");
        if (System.nanoTime() > end || !refusedByBusyPort) throw e;
        Thread.sleep(200);
      }
    }
  }

  private static String awaitPty(Process p) throws Exception {
    CompletableFuture<String> found = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          Matcher m = PTY.matcher(line);
          if (m.find()) found.complete(m.group(1));
        }
      } catch (IOException e) {
        // QEMU is gone
      }
      found.complete(null);
    });
    t.setDaemon(true);
    t.start();
    String pts = found.get(10, TimeUnit.SECONDS);
    assertNotNull(pts, "QEMU exited before printing its pseudo-terminal");
    return pts;
  }

  private void awaitListening(int port) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    boolean up = false;
    while (!up && System.nanoTime() < end) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        up = true;
      } catch (IOException e) {
        Thread.sleep(20);
      }
    }
    assertTrue(up, "ser2net did not listen on " + port + " within 5 s: " + Files.readString(tmp.resolve("ser2net.log")));
    Thread.sleep(200); // ser2net releases the port after the probe connection
  }
}
