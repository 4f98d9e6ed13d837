package dev.kiln.transport;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * A byte stream to a device. Deliberately small, after Okio's {@code Source}/{@code Sink}: read up to
 * n bytes, write, flush, {@link #timeout()}, {@link #close()}. Left out on purpose: {@code
 * available()} (what a pipe or UART holds says nothing about what the device will send), peeking and
 * mark/reset (the framing layer buffers what it needs), and end-of-stream as a return value: a
 * stream that ends raises {@link LinkClosedException} saying why.
 *
 * <p>Every read and write waits at most what {@link #timeout()} allows and then fails with {@link
 * LinkTimeoutException}. A process transport is stopped by a timeout (a blocked pipe read cannot
 * be cancelled otherwise); sockets and serial ports stay open after a read timeout. Any other
 * failure closes the transport. Not thread-safe except
 * {@link #close()}, which may be called from any thread, any number of times.
 */
public interface Transport extends Closeable {
  /**
   * Reads at least 1 and at most {@code len} bytes, waiting as {@link #timeout()} allows.
   *
   * @return the number of bytes read, at least 1
   * @throws LinkClosedException when the stream ended (with the reason: exit status, stderr)
   * @throws LinkTimeoutException when nothing arrived in time
   */
  int read(byte[] dst, int off, int len) throws IOException;

  /** Writes all of {@code len} bytes (possibly buffered until {@link #flush()}). */
  void write(byte[] src, int off, int len) throws IOException;

  default void write(byte[] src) throws IOException { write(src, 0, src.length); }

  /** Sends everything buffered. */
  void flush() throws IOException;

  /** This stream's time limits; change them before the operations they should govern. */
  Timeout timeout();

  /**
   * Whether bytes written while the device is busy wait for it, in a buffer it drains at its own
   * pace, instead of being lost: true for a process's pipes, which lets a client send the next
   * request before the reply to the last one (pipelining). False by default and for every serial
   * link: a board's UART receiver may drop what arrives while the firmware is not reading it, so
   * over a UART the host sends one request at a time. Wrappers should pass their link's answer on.
   */
  default boolean buffersWhileBusy() { return false; }

  /** Releases the link (ends a device process). Safe to call twice and from another thread. */
  @Override void close() throws IOException;

  /**
   * Starts {@code command} and talks to it over its stdin and stdout; stderr is kept (the last lines
   * appear in errors). Closing closes stdin, waits briefly for the program to exit, then kills it.
   */
  static Transport process(List<String> command) throws IOException {
    return ProcessTransport.start(new ProcessBuilder(command));
  }

  /** As {@link #process(List)}, with the caller's directory and environment. */
  static Transport process(ProcessBuilder builder) throws IOException {
    return ProcessTransport.start(builder);
  }

  /** Connects to a TCP server (QEMU's {@code -serial tcp:…,server=on}, ser2net's raw port). */
  static Transport tcp(String host, int port, Duration connectTimeout) throws IOException {
    return SocketTransport.connect(new InetSocketAddress(host, port), connectTimeout);
  }

  /**
   * A serial line by address: {@code rfc2217://HOST:PORT} (a telnet COM-port server such as ser2net;
   * the far port is set to {@code baudRate} 8N1), {@code tcp://HOST:PORT} (raw bytes, e.g. ser2net's
   * raw accepter; the baud rate is the server's), otherwise a port path opened with jSerialComm.
   * {@code connectTimeout} bounds connecting and the RFC 2217 negotiation.
   */
  static Transport serialLink(String address, int baudRate, Duration connectTimeout) throws IOException {
    for (String scheme : List.of("rfc2217://", "tcp://")) {
      if (!address.startsWith(scheme)) continue;
      String rest = address.substring(scheme.length());
      int colon = rest.lastIndexOf(':');
      int port = -1;
      try {
        if (colon > 0) port = Integer.parseInt(rest.substring(colon + 1).replaceAll("/+$", ""));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port <= 0 || port > 65535) {
        throw new LinkClosedException("'" + address + "' is not " + scheme + "HOST:PORT (a port number 1..65535)");
      }
      String host = rest.substring(0, colon);
      return scheme.startsWith("rfc2217") ? Rfc2217Transport.connect(host, port, baudRate, connectTimeout)
          : tcp(host, port, connectTimeout);
    }
    return serial(address, baudRate);
  }

  /** Opens a serial port or pseudo-terminal by path, 8N1, no flow control, through jSerialComm. */
  static Transport serial(String path, int baudRate) throws IOException {
    return SerialTransport.open(path, baudRate);
  }
}
