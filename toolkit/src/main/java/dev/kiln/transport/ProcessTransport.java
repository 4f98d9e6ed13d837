package dev.kiln.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A device program's stdin and stdout. Reads block in the OS, so the {@link Watchdog} destroys the
 * process when an operation outlives its timeout; a stream that ends reports the exit status and
 * the last {@value #STDERR_LINES} lines of stderr.
 */
public final class ProcessTransport implements Transport, Watchdog.Watched {
  static final int STDERR_LINES = 20;
  private static final Duration EXIT_WAIT = Duration.ofSeconds(2);
  private static final Map<Integer, String> SIGNALS = Map.ofEntries(
      Map.entry(1, "SIGHUP"), Map.entry(2, "SIGINT"), Map.entry(3, "SIGQUIT"), Map.entry(4, "SIGILL"),
      Map.entry(6, "SIGABRT"), Map.entry(7, "SIGBUS"), Map.entry(8, "SIGFPE"), Map.entry(9, "SIGKILL"),
      Map.entry(11, "SIGSEGV"), Map.entry(13, "SIGPIPE"), Map.entry(14, "SIGALRM"), Map.entry(15, "SIGTERM"));

  private final Process process;
  private final String name;
  private final InputStream in;
  private final OutputStream out;
  private final String readOp;
  private final String writeOp;
  private final String flushOp;
  private final Timeout timeout = new Timeout();
  private final ArrayDeque<String> stderrTail = new ArrayDeque<>();
  private final Thread stderrPump;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long expiresAt;
  private volatile boolean timedOut;

  private ProcessTransport(Process process, String name) {
    this.process = process;
    this.name = name;
    this.in = directStdout(process);
    this.out = process.getOutputStream();
    this.readOp = "read from " + this;
    this.writeOp = "write to " + this;
    this.flushOp = "flush to " + this;
    this.stderrPump = new Thread(this::pumpStderr, "kiln-stderr-" + process.pid());
    stderrPump.setDaemon(true);
    stderrPump.start();
    Watchdog.register(this);
  }

  static ProcessTransport start(ProcessBuilder builder) throws IOException {
    builder.redirectErrorStream(false);
    List<String> command = builder.command();
    if (command.isEmpty()) throw new IllegalArgumentException("command is empty");
    Process p;
    try {
      p = builder.start();
    } catch (IOException e) {
      throw new LinkClosedException("cannot start device program " + String.join(" ", command) + ": " + e.getMessage(), e);
    }
    String program = Path.of(command.get(0)).getFileName().toString();
    return new ProcessTransport(p, program);
  }

  /**
   * The program's stdout without Java's BufferedInputStream: that stream asks the OS how much is
   * available (an fstat and an ioctl) after every read that returns fewer bytes than requested,
   * which is every read of a link (two extra system calls per reply). On Linux the pipe's read end
   * is opened again through /proc/PID/fd/1 (proc(5): opening a pipe's entry opens the pipe) and
   * read with one read(2) per call. Used only when that is provably the same pipe: the child's fd 1
   * named the same pipe before and after the open, and this JVM holds it twice (its own read end
   * and the new one); a wrapper that moves its fd 1 around (strace does) fails that. Otherwise, and
   * off Linux, the process's own stream is used.
   */
  private static InputStream directStdout(Process process) {
    Path fd = Path.of("/proc/" + process.pid() + "/fd/1");
    InputStream direct = null;
    try {
      if (!Files.exists(fd)) return process.getInputStream();
      Path before = Files.readSymbolicLink(fd);
      if (!before.toString().startsWith("pipe:")) return process.getInputStream();
      direct = new java.io.FileInputStream(fd.toFile());
      if (before.equals(Files.readSymbolicLink(fd)) && heldTwice(before)) {
        process.getInputStream().close(); // one reader: ours
        return direct;
      }
    } catch (IOException | SecurityException e) {
      // not Linux, or the program is gone already: its stream says so on the first read
    }
    if (direct != null) {
      try {
        direct.close();
      } catch (IOException e) {
        // never used
      }
    }
    return process.getInputStream();
  }

  /** Whether at least two of this process's descriptors name {@code pipe} ("pipe:[inode]"). */
  private static boolean heldTwice(Path pipe) throws IOException {
    int held = 0;
    try (var fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path d : fds) {
        try {
          if (pipe.equals(Files.readSymbolicLink(d)) && ++held == 2) return true;
        } catch (IOException e) {
          // closed while listing
        }
      }
    }
    return false;
  }

  /** The device program's process id. */
  public long pid() { return process.pid(); }

  private void pumpStderr() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        synchronized (stderrTail) {
          if (stderrTail.size() == STDERR_LINES) stderrTail.removeFirst();
          stderrTail.addLast(line);
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  /** The last lines the program wrote on stderr, oldest first. */
  public List<String> stderrTail() {
    synchronized (stderrTail) {
      return new ArrayList<>(stderrTail);
    }
  }

  @Override public long expiresAtNanos() { return expiresAt; }

  @Override public void timedOut() {
    timedOut = true;
    process.destroyForcibly();
  }

  /** Sets the watchdog for an operation that started at {@code now} (one clock read per operation: it is not free in a VM). */
  private void arm(String operation, long now) throws IOException {
    if (closed.get()) throw new LinkClosedException(operation + ": " + this + " is closed");
    long wait = timeout.waitNanos(operation);
    long at = now + wait;
    expiresAt = at == 0 ? 1 : at;
  }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    if (len <= 0) throw new IllegalArgumentException("len <= 0: " + len);
    long start = System.nanoTime();
    arm(readOp, start);
    int n;
    try {
      n = in.read(dst, off, len);
    } catch (IOException e) {
      throw failure(readOp, start, e);
    } finally {
      expiresAt = 0;
    }
    if (n < 0) throw failure(readOp, start, null);
    return n;
  }

  @Override public void write(byte[] src, int off, int len) throws IOException {
    long start = System.nanoTime();
    arm(writeOp, start);
    try {
      out.write(src, off, len);
    } catch (IOException e) {
      throw failure(writeOp, start, e);
    } finally {
      expiresAt = 0;
    }
  }

  @Override public void flush() throws IOException {
    long start = System.nanoTime();
    arm(flushOp, start);
    try {
      out.flush();
    } catch (IOException e) {
      throw failure(flushOp, start, e);
    } finally {
      expiresAt = 0;
    }
  }

  @Override public Timeout timeout() { return timeout; }

  /** A pipe holds what the program has not read yet (64 KiB on Linux) and blocks the writer beyond that. */
  @Override public boolean buffersWhileBusy() { return true; }

  /** Turns an end of stream or I/O error into the exception that says why, and closes. */
  private LinkException failure(String operation, long startNanos, IOException cause) {
    if (timedOut) {
      String what = timeout.describeExpiry(operation, System.nanoTime() - startNanos);
      closeQuietly();
      return new LinkTimeoutException(what + "; the device program was stopped",
          Duration.ofNanos(System.nanoTime() - startNanos), cause);
    }
    String status = describeExit();
    closeQuietly();
    return new LinkClosedException(operation + " failed: " + status + stderrReport(), cause);
  }

  private String describeExit() {
    try {
      if (!process.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        return "the device program closed its side of the link but is still running";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while waiting for the device program to exit";
    }
    return "device program " + name + " (pid " + process.pid() + ") " + describeStatus(process.exitValue());
  }

  /** "exited with status 3", "was killed by signal 9 (SIGKILL)". */
  static String describeStatus(int status) {
    if (status > 128 && status < 160) {
      int signal = status - 128;
      return "was killed by signal " + signal + " (" + SIGNALS.getOrDefault(signal, "?") + "), exit status " + status;
    }
    return "exited with status " + status;
  }

  private String stderrReport() {
    try {
      stderrPump.join(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<String> lines = stderrTail();
    if (lines.isEmpty()) return "; it printed nothing on stderr";
    return "; last stderr lines:\n  " + String.join("\n  ", lines);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (IOException e) {
      // closing a dead process
    }
  }

  @Override public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) return;
    try {
      expiresAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(1); // a blocked flush must not hang close
      try {
        out.close();
      } catch (IOException e) {
        // already gone
      } finally {
        expiresAt = 0;
      }
      if (!process.waitFor(200, TimeUnit.MILLISECONDS)) {
        process.destroy();
        if (!process.waitFor(500, TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor(1, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      Watchdog.unregister(this);
      try {
        in.close();
      } catch (IOException e) {
        // ignore
      }
    }
  }

  @Override public String toString() { return "process(" + name + ", pid " + process.pid() + ")"; }
}
