package dev.kiln.transport;

import com.fazecast.jSerialComm.SerialPort;
import com.fazecast.jSerialComm.SerialPortInvalidPortException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A serial port or pseudo-terminal through jSerialComm (opened by path: ptys are not enumerated).
 * Reads poll in {@value #POLL_MILLIS} ms semi-blocking slices so the timeout is kept without a
 * watchdog, and a read timeout leaves the port open; a read returning -1 (EIO: the other side of a pty closed) ends the link. jSerialComm's
 * writeBytes returns 0, not -1, once the peer is gone, so a write that makes no progress while
 * {@code bytesAvailable() < 0} is reported as closed.
 */
final class SerialTransport implements Transport {
  static final int POLL_MILLIS = 50;

  private final SerialPort port;
  private final String path;
  private final Timeout timeout = new Timeout();
  private final AtomicBoolean closed = new AtomicBoolean();

  private final String readOp;
  private final String writeOp;

  private SerialTransport(SerialPort port, String path) {
    this.port = port;
    this.path = path;
    this.readOp = "read from " + this; // named once, not per call
    this.writeOp = "write to " + this;
  }

  static SerialTransport open(String path, int baudRate) throws IOException {
    SerialPort port;
    try {
      port = SerialPort.getCommPort(path);
    } catch (SerialPortInvalidPortException e) {
      throw new LinkClosedException("serial port " + path + " does not exist: " + e.getMessage(), e);
    }
    port.setComPortParameters(baudRate, 8, SerialPort.ONE_STOP_BIT, SerialPort.NO_PARITY);
    port.setFlowControl(SerialPort.FLOW_CONTROL_DISABLED);
    port.setComPortTimeouts(SerialPort.TIMEOUT_READ_SEMI_BLOCKING | SerialPort.TIMEOUT_WRITE_BLOCKING, POLL_MILLIS,
        POLL_MILLIS);
    if (!port.openPort()) {
      throw new LinkClosedException("cannot open serial port " + path + " (error code " + port.getLastErrorCode()
          + "); check that it exists and that this user may open it");
    }
    return new SerialTransport(port, path);
  }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    String op = readOp;
    if (closed.get()) throw new LinkClosedException(op + ": closed");
    long start = System.nanoTime();
    long end = start + timeout.waitNanos(op);
    while (true) {
      int n = port.readBytes(dst, len, off);
      if (n > 0) return n;
      if (n < 0 || closed.get()) {
        int error = port.getLastErrorCode();
        close();
        throw new LinkClosedException(op + ": the port reported end of input (error code " + error
            + "; a pty whose other side closed reports 5, EIO)");
      }
      if (System.nanoTime() - end >= 0) {
        String what = timeout.describeExpiry(op, System.nanoTime() - start);
        throw new LinkTimeoutException(what, Duration.ofNanos(System.nanoTime() - start));
      }
    }
  }

  @Override public void write(byte[] src, int off, int len) throws IOException {
    String op = writeOp;
    if (closed.get()) throw new LinkClosedException(op + ": closed");
    long start = System.nanoTime();
    long end = start + timeout.waitNanos(op);
    while (len > 0) {
      int n = port.writeBytes(src, len, off);
      if (n > 0) {
        off += n;
        len -= n;
        continue;
      }
      if (n < 0 || port.bytesAvailable() < 0) {
        close();
        throw new LinkClosedException(op + ": the port refused bytes (error code " + port.getLastErrorCode() + ")");
      }
      if (System.nanoTime() - end >= 0) {
        String what = timeout.describeExpiry(op, System.nanoTime() - start);
        close();
        throw new LinkTimeoutException(what + "; the port was closed", Duration.ofNanos(System.nanoTime() - start));
      }
      try {
        TimeUnit.MILLISECONDS.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LinkClosedException(op + ": interrupted");
      }
    }
  }

  @Override public void flush() {
    // writeBytes hands bytes to the OS directly
  }

  @Override public Timeout timeout() { return timeout; }

  @Override public void close() {
    if (!closed.compareAndSet(false, true)) return;
    port.closePort();
  }

  @Override public String toString() { return "serial(" + path + ")"; }
}
