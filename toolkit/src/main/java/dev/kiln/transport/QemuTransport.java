package dev.kiln.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A QEMU board's UART0: QEMU is started with {@code -serial pty} (opened through jSerialComm, the
 * path a USB board takes) or {@code -serial tcp:127.0.0.1:PORT,server=on,wait=off,nodelay=on} (a
 * socket), and stopped when the transport closes, when QEMU's link fails, or when the JVM exits.
 * The start-up races of shared/docs/qemu-cortex-m.md §8 are handled here and in the session: the
 * pty is opened the moment QEMU prints its name (output written before that is lost, so nothing
 * relies on a boot banner), a TCP connect is retried until QEMU listens, and the session handshake
 * repeats its ping until the firmware answers. When QEMU exits (a firmware abort exits with status
 * 3 through semihosting), errors name its exit status and the last lines of its stderr.
 */
public final class QemuTransport implements Transport {
  /** How the host reaches the board's UART. */
  public enum Link { PTY, TCP }

  static final int STDERR_LINES = 20;
  private static final Pattern PTY = Pattern.compile("char device redirected to (/dev/pts/\\d+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

  private final Process process;
  private final Transport link;
  private final String name;
  private final ArrayDeque<String> stderrTail;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  private QemuTransport(Process process, Transport link, String name, ArrayDeque<String> stderrTail) {
    this.process = process;
    this.link = link;
    this.name = name;
    this.stderrTail = stderrTail;
    this.shutdownHook = new Thread(process::destroyForcibly, "kiln-qemu-exit-" + process.pid());
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    // A dead QEMU must end a blocked read at once (a socat-style bridge would hide it; QEMU's own pty reports EIO).
    process.onExit().thenRun(() -> {
      try {
        link.close();
      } catch (IOException e) {
        // closing
      }
    });
  }

  /**
   * Starts {@code qemu} (the machine options; {@code -nodefaults -display none} and the serial
   * back end are added here) and connects to UART0.
   */
  public static QemuTransport start(List<String> qemu, Link mode) throws IOException {
    List<String> cmd = new ArrayList<>(qemu);
    cmd.addAll(List.of("-nodefaults", "-display", "none", "-no-reboot"));
    int port = 0;
    if (mode == Link.TCP) {
      port = freePort();
      cmd.addAll(List.of("-serial", "tcp:127.0.0.1:" + port + ",server=on,wait=off,nodelay=on"));
    } else {
      cmd.addAll(List.of("-serial", "pty"));
    }
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    } catch (IOException e) {
      throw new LinkClosedException("cannot start QEMU (" + String.join(" ", cmd) + "): " + e.getMessage()
          + "; install it with: apt-get install --no-install-recommends qemu-system-arm qemu-system-misc", e);
    }
    ArrayDeque<String> stderr = new ArrayDeque<>();
    pump(p, stderr);
    String program = cmd.get(0) + " " + machine(cmd);
    try {
      Transport link;
      String name;
      if (mode == Link.TCP) {
        link = connectWhenListening(p, port, stderr);
        name = "qemu(" + program + ", pid " + p.pid() + ", tcp 127.0.0.1:" + port + ")";
      } else {
        String pty = awaitPty(p, stderr);
        link = SerialTransport.open(pty, 115200);
        name = "qemu(" + program + ", pid " + p.pid() + ", pty " + pty + ")";
      }
      return new QemuTransport(p, link, name, stderr);
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private static String machine(List<String> cmd) {
    int i = cmd.indexOf("-M");
    return i >= 0 && i + 1 < cmd.size() ? "-M " + cmd.get(i + 1) : "";
  }

  private static void pump(Process p, ArrayDeque<String> tail) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.contains("has no peer")) continue; // "nic lan9118.0 has no peer": always printed, harmless
          synchronized (tail) {
            if (tail.size() == STDERR_LINES) tail.removeFirst();
            tail.addLast(line);
          }
        }
      } catch (IOException e) {
        // QEMU is gone
      }
    }, "kiln-qemu-stderr-" + p.pid());
    t.setDaemon(true);
    t.start();
  }

  /** QEMU prints the pty's name on stdout about 90 ms after exec; read it the moment it comes. */
  private static String awaitPty(Process p, ArrayDeque<String> stderr) throws IOException {
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
    }, "kiln-qemu-stdout-" + p.pid());
    t.setDaemon(true);
    t.start();
    String pty;
    try {
      pty = found.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new LinkTimeoutException("QEMU did not print its pseudo-terminal within " + Timeout.format(START_TIMEOUT)
          + tail(stderr), START_TIMEOUT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LinkClosedException("interrupted while starting QEMU");
    } catch (ExecutionException e) {
      throw new LinkClosedException("QEMU start-up: " + e.getCause());
    }
    if (pty == null) throw new LinkClosedException("QEMU exited before opening its serial port" + exitSuffix(p, stderr));
    return pty;
  }

  private static Transport connectWhenListening(Process p, int port, ArrayDeque<String> stderr) throws IOException {
    long end = System.nanoTime() + START_TIMEOUT.toNanos();
    IOException last = null;
    while (System.nanoTime() - end < 0) {
      if (!p.isAlive()) throw new LinkClosedException("QEMU exited before listening on port " + port + exitSuffix(p, stderr));
      try {
        return SocketTransport.connect(new InetSocketAddress("127.0.0.1", port), Duration.ofSeconds(1));
      } catch (LinkClosedException e) {
        last = e; // not listening yet
      }
      try {
        TimeUnit.MILLISECONDS.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LinkClosedException("interrupted while starting QEMU");
      }
    }
    throw new LinkTimeoutException("QEMU did not listen on 127.0.0.1:" + port + " within " + Timeout.format(START_TIMEOUT)
        + (last != null ? " (" + last.getMessage() + ")" : "") + tail(stderr), START_TIMEOUT);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  private static String tail(ArrayDeque<String> stderr) {
    synchronized (stderr) {
      return stderr.isEmpty() ? "" : "\nQEMU stderr:\n  " + String.join("\n  ", stderr);
    }
  }

  private static String exitSuffix(Process p, ArrayDeque<String> stderr) {
    try {
      if (p.waitFor(1, TimeUnit.SECONDS)) {
        int status = p.exitValue();
        String why = status == 3 ? " (the firmware stopped itself after an abort)" : "";
        return "; QEMU (pid " + p.pid() + ") exited with status " + status + why + tail(stderr);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "; QEMU (pid " + p.pid() + ") is still running" + tail(stderr);
  }

  /** QEMU's process id. */
  public long pid() { return process.pid(); }

  /** True while QEMU runs. */
  public boolean isAlive() { return process.isAlive(); }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    try {
      return link.read(dst, off, len);
    } catch (LinkClosedException e) {
      throw closedBecause(e);
    }
  }

  @Override public void write(byte[] src, int off, int len) throws IOException {
    try {
      link.write(src, off, len);
    } catch (LinkClosedException e) {
      throw closedBecause(e);
    }
  }

  @Override public void flush() throws IOException {
    try {
      link.flush();
    } catch (LinkClosedException e) {
      throw closedBecause(e);
    }
  }

  private LinkClosedException closedBecause(LinkClosedException e) {
    if (closed.get()) return e;
    return new LinkClosedException(e.getMessage() + exitSuffix(process, stderrTail), e);
  }

  @Override public Timeout timeout() { return link.timeout(); }

  /** Closes the UART link and stops QEMU (SIGTERM, then SIGKILL after a second). Safe twice, from any thread. */
  @Override public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) return;
    try {
      link.close();
    } finally {
      process.destroy();
      try {
        if (!process.waitFor(1, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is exiting: the hook runs anyway
      }
    }
  }

  @Override public String toString() { return name; }
}
