package dev.kiln.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.JupyterSocket;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code java -jar kiln-kernel.jar CONNECTION_FILE}: what kernel.json runs. JShell starts on a
 * background thread while the sockets bind, so kernel_info is answered at once and the first
 * cell finds javac warm.
 *
 * <p>Settings (environment): {@code KILN_KERNEL_INTERRUPT_GRACE_MS} (default 1000) is how long an
 * interrupted cell may take to stop by itself before its thread is stopped by force;
 * {@code -Dmaven.repo.local} (default {@code ~/.m2/repository}) is where {@code %maven} keeps jars;
 * {@code KILN_KERNEL_LOG} (default WARNING) is the level of what the kernel logs to its stderr,
 * which {@code jupyter console} and the server print: basekernel logs at INFO on every start
 * ("Loop starting...", from loggers outside its package), so only the root level silences it.
 */
public final class Main {
  /** Held so the level sticks (loggers are weakly referenced): basekernel logs every message at INFO. */
  private static final Logger BASEKERNEL_LOG = Logger.getLogger("io.github.spencerpark");

  /** basekernel polls shell and control every 50 ms, which adds up to 50 ms to every request. */
  static final long SHELL_POLL_MS = 5;

  private Main() {}

  /**
   * Sets the shell and control loops' sleep between polls (a constructor argument basekernel's
   * JupyterConnection does not expose) before they start. Best effort: on failure the default stays.
   */
  static void shortenPolling(JupyterConnection connection, long millis) {
    try {
      for (String channel : new String[] {"shell", "control"}) {
        java.lang.reflect.Field f = JupyterConnection.class.getDeclaredField(channel);
        f.setAccessible(true);
        Object shellChannel = f.get(connection);
        java.lang.reflect.Field sleep = shellChannel.getClass().getDeclaredField("sleep");
        sleep.setAccessible(true);
        sleep.setLong(shellChannel, millis);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      Logger.getLogger(Main.class.getName()).log(Level.FINE, "kept basekernel's 50 ms polling", e);
    }
  }

  /** The level named by {@code KILN_KERNEL_LOG} (SEVERE, WARNING, INFO, FINE, ...); WARNING when unset or unknown. */
  static Level logLevel(String name) {
    if (name == null || name.isBlank()) return Level.WARNING;
    try {
      return Level.parse(name.strip().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return Level.WARNING;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: java -jar kiln-kernel.jar CONNECTION_FILE   (Jupyter passes {connection_file})");
      System.exit(2);
    }
    System.setProperty("java.awt.headless", "true");
    Level level = logLevel(System.getenv("KILN_KERNEL_LOG"));
    Logger.getLogger("").setLevel(level);
    BASEKERNEL_LOG.setLevel(level);
    JupyterSocket.JUPYTER_LOGGER.setLevel(level);
    KilnKernel kernel = new KilnKernel(KilnKernel.Options.fromEnvironment());
    kernel.startInBackground();
    KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
    JupyterConnection connection = new JupyterConnection(props);
    shortenPolling(connection, SHELL_POLL_MS);
    kernel.becomeHandlerForConnection(connection);
    connection.connect();
    connection.waitUntilClose();
    // Threads a notebook started may still run; the kernel's life ends with its connection.
    System.exit(0);
  }
}
