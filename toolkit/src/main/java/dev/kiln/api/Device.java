package dev.kiln.api;

import dev.kiln.project.Platform;
import dev.kiln.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Where a build runs: {@code Device.host()} builds the device program with gcc and runs it as a
 * local process speaking the protocol on stdin/stdout; {@code Device.qemu("mps2-an386")} builds the
 * firmware for an emulated board (platform {@code qemu-mps2-an386}), starts QEMU and talks to its
 * UART over a pseudo-terminal (jSerialComm, as with a USB board) or, with {@link #overTcp()}, a
 * socket; {@code Device.serial(path)} and {@code Device.tcp(host, port)} connect to a board already
 * flashed with the build's program. Immutable; {@link #timeout(Duration)} sets how long any one
 * device call may take.
 */
public final class Device {
  public enum Kind { HOST, SERIAL, TCP, QEMU }

  /**
   * QEMU's {@code -icount} shift: every instruction advances the virtual clock by 2^7 ns = 3.2 ticks of
   * the boards' 25 MHz timer, so a measured interval rounds to an exact instruction count (at shift 0
   * one 40 ns tick is 40 instructions). See {@link Timing.Result#instructions()}.
   */
  public static final int DEFAULT_ICOUNT_SHIFT = 7;

  private final Kind kind;
  private final String address;
  private final int port;
  private final Duration timeout;
  private final boolean tcp;
  private final int icountShift;
  private final java.nio.file.Path firmware;
  private final UnaryOperator<Transport> link;
  private final boolean strictMicroTvm;

  private Device(Kind kind, String address, int port, Duration timeout, boolean tcp, int icountShift) {
    this(kind, address, port, timeout, tcp, icountShift, null, UnaryOperator.identity(), false);
  }

  private Device(Kind kind, String address, int port, Duration timeout, boolean tcp, int icountShift, java.nio.file.Path firmware,
                 UnaryOperator<Transport> link, boolean strictMicroTvm) {
    this.strictMicroTvm = strictMicroTvm;
    this.firmware = firmware;
    this.link = link;
    this.kind = kind;
    this.address = address;
    this.port = port;
    this.timeout = timeout;
    this.tcp = tcp;
    this.icountShift = icountShift;
  }

  public static Device host() { return new Device(Kind.HOST, "localhost", 0, Duration.ofSeconds(20), false, -1); }

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
    return new Device(Kind.SERIAL, path, baudRate, Duration.ofSeconds(20), false, -1);
  }

  /** The serial ports this machine has (pseudo-terminals are not listed: open them by path). */
  public static List<SerialPortInfo> ports() { return SerialPortInfo.list(); }

  public static Device tcp(String host, int port) {
    Args.notNull(host, "host", "Device.tcp(host, port)", "the host name, e.g. \"localhost\"");
    if (port < 1 || port > 65535) throw new KilnException("Device.tcp(host, port): port must be 1..65535, not " + port);
    return new Device(Kind.TCP, host, port, Duration.ofSeconds(20), true, -1);
  }

  /**
   * An emulated board: {@code mps2-an385} (Cortex-M3), {@code mps2-an386} (Cortex-M4F),
   * {@code mps2-an505} (Cortex-M33), {@code microbit} (Cortex-M0, 16 KiB RAM) or {@code riscv32-virt}
   * (RV32IMAC). The session builds the firmware, starts QEMU and stops it when it closes.
   */
  public static Device qemu(String board) {
    Args.notNull(board, "board", "Device.qemu(board)", "a board name: " + String.join(", ", Platform.QEMU_BOARDS));
    String b = board.toLowerCase(Locale.ROOT);
    if (b.startsWith("qemu-")) b = b.substring(5);
    if (!Platform.QEMU_BOARDS.contains(b)) {
      throw new KilnException("no QEMU board named '" + board + "'; choose one of " + String.join(", ", Platform.QEMU_BOARDS));
    }
    return new Device(Kind.QEMU, b, 0, Duration.ofSeconds(60), false, DEFAULT_ICOUNT_SHIFT);
  }

  /**
   * The host device, answering as microTVM v0.18's CRT does where the CRT is stricter than Kiln, to
   * see what a real microTVM board would do: an input name the CRT does not know (the AoT executor
   * knows C names only, e.g. {@code predict_images_0}, not {@code predict_images:0}) is a failed
   * CHECK that aborts the device (a {@link dev.kiln.rpc.DeviceAbortedException} on the host, after
   * the CRT's log line), and DevSetDevice, DevGetAttr and DevGetCurrentStream raise. Kiln's host API
   * resolves names on the host, so it keeps working; raw calls show the difference. The default,
   * without this, is Kiln's forgiving device.
   */
  public Device strictMicroTvm() {
    if (kind != Kind.HOST) throw new KilnException("strictMicroTvm() applies to Device.host() only, not to " + this);
    return new Device(kind, address, port, timeout, tcp, icountShift, firmware, link, true);
  }

  /** True when the device answers as microTVM's CRT where it is stricter ({@link #strictMicroTvm()}). */
  public boolean isStrictMicroTvm() { return strictMicroTvm; }

  /** The longest any single device call may take before it fails with a timeout naming it. */
  public Device timeout(Duration t) {
    Args.notNull(t, "t", "Device.timeout(t)", "a positive duration, e.g. Duration.ofSeconds(20)");
    if (t.isNegative() || t.isZero()) throw new KilnException("timeout must be positive: " + t);
    return new Device(kind, address, port, t, tcp, icountShift, firmware, link, strictMicroTvm);
  }

  /** QEMU boards: reach the UART over a TCP socket ({@code -serial tcp:...,nodelay=on}) instead of a pseudo-terminal. */
  public Device overTcp() {
    requireQemu("overTcp");
    return new Device(kind, address, port, timeout, true, icountShift, firmware, link, strictMicroTvm);
  }

  /** QEMU boards: reach the UART over QEMU's pseudo-terminal, opened with jSerialComm (the default). */
  public Device overPty() {
    requireQemu("overPty");
    return new Device(kind, address, port, timeout, false, icountShift, firmware, link, strictMicroTvm);
  }

  /**
   * QEMU boards: the {@code -icount shift} (0..10). Instruction counts need 7 or more (an instruction
   * must last two ticks of the board's timer); lower shifts run the same, timed in virtual time only.
   */
  public Device icount(int shift) {
    requireQemu("icount");
    if (shift < 0 || shift > 10) throw new KilnException("icount shift must be 0..10: " + shift);
    return new Device(kind, address, port, timeout, tcp, shift, firmware, link, strictMicroTvm);
  }

  /**
   * QEMU boards: boot this firmware ELF (e.g. one built from a {@code kiln project} folder with make)
   * instead of building the session's own. Build it with {@code -DKILN_QEMU_ICOUNT_SHIFT} equal to
   * {@link #icountShift()} for exact instruction counts (the project's QEMU examples do).
   */
  public Device firmware(java.nio.file.Path elf) {
    requireQemu("firmware");
    Args.notNull(elf, "elf", "Device.firmware(elf)", "the firmware ELF to boot, e.g. Path.of(\"build/firmware.elf\")");
    if (!java.nio.file.Files.isRegularFile(elf)) throw new KilnException("no firmware at " + elf);
    return new Device(kind, address, port, timeout, tcp, icountShift, elf.toAbsolutePath(), link, strictMicroTvm);
  }

  /** QEMU boards: the firmware given with {@link #firmware}, or null when the session builds its own. */
  public java.nio.file.Path firmware() { return firmware; }

  private void requireQemu(String what) {
    if (kind != Kind.QEMU) throw new KilnException(what + "() applies to Device.qemu(...) only, not to " + this);
  }

  /**
   * Wraps every link this device opens (a packet logger, a fault injector in tests); the wrapper
   * gets the connected transport and returns the one sessions use.
   */
  public Device wrapLink(UnaryOperator<Transport> wrapper) {
    Args.notNull(wrapper, "wrapper", "Device.wrapLink(wrapper)", "a function from the link to the link to use, e.g. t -> t");
    UnaryOperator<Transport> before = link;
    return new Device(kind, address, port, timeout, tcp, icountShift, firmware, t -> wrapper.apply(before.apply(t)), strictMicroTvm);
  }

  Transport wrap(Transport t) { return link.apply(t); }

  public Kind kind() { return kind; }

  /** The host, serial path, TCP host, or QEMU board name. */
  public String address() { return address; }

  /** TCP port, or the serial baud rate. */
  public int port() { return port; }

  public Duration timeout() { return timeout; }

  /** QEMU boards: true when the UART is reached over TCP. */
  public boolean isTcp() { return tcp; }

  /** QEMU boards: the -icount shift, else -1. */
  public int icountShift() { return icountShift; }

  /** A short name for tables: {@code host}, {@code qemu:mps2-an386}, {@code serial:/dev/ttyACM0}, {@code tcp:host:port}. */
  public String label() {
    return switch (kind) {
      case HOST -> "host";
      case QEMU -> "qemu:" + address;
      case SERIAL -> "serial:" + address;
      case TCP -> "tcp:" + address + ":" + port;
    };
  }

  /** The platform folder the device program is built for. */
  public String platformName() {
    return switch (kind) {
      case HOST -> "host";
      case QEMU -> "qemu-" + address;
      case SERIAL, TCP -> throw new KilnException(this + " runs a program flashed beforehand; build one with kiln project");
    };
  }

  @Override public String toString() {
    return switch (kind) {
      case HOST -> "host (local process" + (strictMicroTvm ? ", strict microTVM" : "") + ")";
      case SERIAL -> "serial " + address + " @" + port;
      case TCP -> "tcp " + address + ":" + port;
      case QEMU -> "qemu:" + address + " (" + (tcp ? "tcp" : "pty") + ", icount shift " + icountShift
          + (firmware != null ? ", firmware " + firmware : "") + ")";
    };
  }

  @Override public boolean equals(Object o) {
    return o instanceof Device d && d.kind == kind && d.address.equals(address) && d.port == port && d.timeout.equals(timeout)
        && d.tcp == tcp && d.icountShift == icountShift && Objects.equals(d.firmware, firmware) && d.strictMicroTvm == strictMicroTvm;
  }

  @Override public int hashCode() { return Objects.hash(kind, address, port, timeout, tcp, icountShift, firmware, link, strictMicroTvm); }
}
