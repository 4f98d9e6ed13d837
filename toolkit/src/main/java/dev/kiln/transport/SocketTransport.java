package dev.kiln.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP connection; reads time out through SO_TIMEOUT (the socket stays open), writes through the
 * {@link Watchdog}. Does not claim {@link #buffersWhileBusy()}: the socket buffers, but every socket
 * Kiln opens leads to a board's UART (QEMU's {@code -serial tcp}, ser2net), which may not.
 */
final class SocketTransport implements Transport, Watchdog.Watched {
  private final String readOp;
  private final String writeOp;
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final Timeout timeout = new Timeout();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final String name;
  private volatile long expiresAt;
  private volatile boolean timedOut;

  private SocketTransport(Socket socket, String name) throws IOException {
    this.socket = socket;
    this.name = name;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
    this.readOp = "read from " + name; // named once, not per call
    this.writeOp = "write to " + name;
    Watchdog.register(this);
  }

  static SocketTransport connect(InetSocketAddress address, Duration connectTimeout) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.connect(address, (int) Math.max(1, connectTimeout.toMillis()));
    } catch (SocketTimeoutException e) {
      s.close();
      throw new LinkTimeoutException("connect to " + address + ": no answer after " + Timeout.format(connectTimeout),
          connectTimeout, e);
    } catch (IOException e) {
      s.close();
      throw new LinkClosedException("connect to " + address + ": " + e.getMessage(), e);
    }
    return new SocketTransport(s, "tcp(" + address.getHostString() + ":" + address.getPort() + ")");
  }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    if (closed.get()) throw new LinkClosedException(readOp + ": closed");
    String op = readOp;
    long wait = timeout.waitNanos(op);
    long start = System.nanoTime();
    int n;
    try {
      socket.setSoTimeout((int) Math.max(1, (wait + 999_999) / 1_000_000));
      n = in.read(dst, off, len);
    } catch (SocketTimeoutException e) {
      String what = timeout.describeExpiry(op, System.nanoTime() - start);
      throw new LinkTimeoutException(what, Duration.ofNanos(System.nanoTime() - start), e);
    } catch (IOException e) {
      close();
      throw new LinkClosedException(op + ": " + e.getMessage(), e);
    }
    if (n < 0) {
      close();
      throw new LinkClosedException(op + ": the peer closed the connection");
    }
    return n;
  }

  @Override public void write(byte[] src, int off, int len) throws IOException {
    String op = writeOp;
    long start = System.nanoTime();
    expiresAt = start + timeout.waitNanos(op);
    try {
      out.write(src, off, len);
    } catch (IOException e) {
      close();
      if (timedOut) {
        throw new LinkTimeoutException(timeout.describeExpiry(op, System.nanoTime() - start),
            Duration.ofNanos(System.nanoTime() - start), e);
      }
      throw new LinkClosedException(op + ": " + e.getMessage(), e);
    } finally {
      expiresAt = 0;
    }
  }

  @Override public void flush() throws IOException {
    try {
      out.flush();
    } catch (IOException e) {
      close();
      throw new LinkClosedException("flush to " + this + ": " + e.getMessage(), e);
    }
  }

  @Override public Timeout timeout() { return timeout; }

  @Override public long expiresAtNanos() { return expiresAt; }

  @Override public void timedOut() {
    timedOut = true;
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
  }

  @Override public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) return;
    Watchdog.unregister(this);
    socket.close();
  }

  @Override public String toString() { return name; }
}
