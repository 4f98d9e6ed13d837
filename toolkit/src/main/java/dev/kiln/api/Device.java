package dev.kiln.api;

import dev.kiln.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

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
  private final UnaryOperator<Transport> link;

  private Device(Kind kind, String address, int port, Duration timeout, UnaryOperator<Transport> link) {
    this.kind = kind;
    this.address = address;
    this.port = port;
    this.timeout = timeout;
    this.link = link;
  }

  public static Device host() { return new Device(Kind.HOST, "localhost", 0, Duration.ofSeconds(20), UnaryOperator.identity()); }

  /**
   * A board on a serial line at 115200 baud: a port path ({@code /dev/ttyACM0}, {@code COM3}), or a
   * port served over the network: {@code rfc2217://host:port} (a telnet COM-port server such as
   * ser2net; the baud rate is set on the far port) or {@code tcp://host:port} (raw bytes).
   */
  public static Device serial(String path) { return serial(path, 115200); }

  /** As {@link #serial(String)} at {@code baudRate} (8N1, no flow control). */
  public static Device serial(String path, int baudRate) {
    Args.notNull(path, "path", "Device.serial(path, baudRate)", "the serial port, e.g. \"/dev/ttyACM0\" or \"rfc2217://host:port\"");
    if (baudRate <= 0) throw new KilnException("baud rate must be positive: " + baudRate);
    return new Device(Kind.SERIAL, path, baudRate, Duration.ofSeconds(20), UnaryOperator.identity());
  }

  /** The serial ports this machine has (pseudo-terminals are not listed: open them by path). */
  public static List<SerialPortInfo> ports() { return SerialPortInfo.list(); }

  public static Device tcp(String host, int port) {
    Args.notNull(host, "host", "Device.tcp(host, port)", "the host name, e.g. \"localhost\"");
    if (port < 1 || port > 65535) throw new KilnException("Device.tcp(host, port): port must be 1..65535, not " + port);
    return new Device(Kind.TCP, host, port, Duration.ofSeconds(20), UnaryOperator.identity());
  }

  /** The longest any single device call may take before it fails with a timeout naming it. */
  public Device timeout(Duration t) {
    Args.notNull(t, "t", "Device.timeout(t)", "a positive duration, e.g. Duration.ofSeconds(20)");
    if (t.isNegative() || t.isZero()) throw new KilnException("timeout must be positive: " + t);
    return new Device(kind, address, port, t, link);
  }

  /**
   * Wraps every link this device opens (a packet logger, a fault injector in tests); the wrapper
   * gets the connected transport and returns the one sessions use.
   */
  public Device wrapLink(UnaryOperator<Transport> wrapper) {
    Args.notNull(wrapper, "wrapper", "Device.wrapLink(wrapper)", "a function from the link to the link to use, e.g. t -> t");
    UnaryOperator<Transport> before = link;
    return new Device(kind, address, port, timeout, t -> wrapper.apply(before.apply(t)));
  }

  Transport wrap(Transport t) { return link.apply(t); }

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
