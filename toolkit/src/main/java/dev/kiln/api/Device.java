package dev.kiln.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where a build runs: {@code Device.host()} builds the device program with gcc and runs it as a
 * local process speaking the protocol on stdin/stdout; {@code Device.serial(path)} and
 * {@code Device.tcp(host, port)} connect to a board already flashed with the build's program.
 * Immutable; {@link #timeout(Duration)} sets how long any one device call may take.
 */
public final class Device {
  public enum Kind { HOST, SERIAL, TCP }

  private final Kind kind;
  private final String address;
  private final int port;
  private final Duration timeout;

  private Device(Kind kind, String address, int port, Duration timeout) {
    this.kind = kind;
    this.address = address;
    this.port = port;
    this.timeout = timeout;
  }

  public static Device host() { return new Device(Kind.HOST, "localhost", 0, Duration.ofSeconds(20)); }

  /**
   * A board on a serial line at 115200 baud: a port path ({@code /dev/ttyACM0}, {@code COM3}), or a
   * port served over the network: {@code rfc2217://host:port} (a telnet COM-port server such as
   * ser2net; the baud rate is set on the far port) or {@code tcp://host:port} (raw bytes).
   */
  public static Device serial(String path) { return serial(path, 115200); }

  /** As {@link #serial(String)} at {@code baudRate} (8N1, no flow control). */
  public static Device serial(String path, int baudRate) {
    if (baudRate <= 0) throw new KilnException("baud rate must be positive: " + baudRate);
    return new Device(Kind.SERIAL, Objects.requireNonNull(path), baudRate, Duration.ofSeconds(20));
  }

  /** The serial ports this machine has (pseudo-terminals are not listed: open them by path). */
  public static List<SerialPortInfo> ports() { return SerialPortInfo.list(); }

  public static Device tcp(String host, int port) { return new Device(Kind.TCP, Objects.requireNonNull(host), port, Duration.ofSeconds(20)); }

  /** The longest any single device call may take before it fails with a timeout naming it. */
  public Device timeout(Duration t) {
    if (t.isNegative() || t.isZero()) throw new KilnException("timeout must be positive: " + t);
    return new Device(kind, address, port, t);
  }

  public Kind kind() { return kind; }

  public String address() { return address; }

  /** TCP port, or the serial baud rate. */
  public int port() { return port; }

  public Duration timeout() { return timeout; }

  @Override public String toString() {
    return switch (kind) {
      case HOST -> "host (local process)";
      case SERIAL -> "serial " + address + " @" + port;
      case TCP -> "tcp " + address + ":" + port;
    };
  }
}
