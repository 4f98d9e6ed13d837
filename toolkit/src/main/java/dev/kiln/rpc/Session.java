package dev.kiln.rpc;

import dev.kiln.transport.LinkClosedException;
import dev.kiln.transport.LinkCorruptedException;
import dev.kiln.transport.LinkException;
import dev.kiln.transport.LinkTimeoutException;
import dev.kiln.transport.Timeout;
import dev.kiln.transport.Transport;
import java.io.Closeable;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The microTVM session layer over a transport: the host-initiated handshake (Terminate, then
 * StartSessionInit with a regenerated nonce, until a matching StartSessionReply), kNormal messages
 * carrying one RPC packet each, and device logs. Host rules kept from microTVM's facts: the host
 * never sends kLog or unknown message types, never sends kNormal before the reply is accepted,
 * ignores Terminates and stale replies while not established, and treats a Terminate while
 * established as the end of the session.
 *
 * <p>Device log lines go to the {@link RpcOptions#logListener()} and a short history. Kiln devices
 * also report what they drop ({@value #DROP_PREFIX}...) and why they abort ({@value #ABORT_PREFIX}
 * ...): a drop while a reply is pending fails the call as corrupted after {@link
 * RpcOptions#dropGrace()} unless the reply still comes; an abort fails it with the reason.
 */
public final class Session implements Closeable {
  static final String LINK_PREFIX = "kiln link: ";
  static final String DROP_PREFIX = LINK_PREFIX + "dropped ";
  static final String ABORT_PREFIX = "kiln abort ";
  static final int TYPE_INIT = 0x00, TYPE_REPLY = 0x01, TYPE_TERMINATE = 0x02, TYPE_LOG = 0x03, TYPE_NORMAL = 0x10;
  private static final int LOG_HISTORY = 20;
  private static final int SMALL_READ = 8192;

  private final Transport transport;
  private final RpcOptions options;
  private final Framer framer = new Framer();
  private final Unframer unframer;
  private final byte[] readBuffer = new byte[1 << 17];
  /** readBuffer[readPos, readLimit) was read and not yet fed to the unframer. */
  private int readPos;
  private int readLimit;
  private final byte[] header = new byte[3];
  private final Framer.Sink toTransport;
  /** A frame made by {@link #prepare} and not sent yet: prepared[0, preparedSize), or preparedSize < 0. */
  private byte[] prepared = new byte[256];
  private int preparedSize = -1;
  /** Payload bytes of the message {@link #prepare} framed. */
  private int preparedPayload;
  /**
   * Payload bytes of the last messages sent: a device report of a dropped frame whose size is none
   * of these was not one of our requests (stray bytes on the link), so no request is suspected.
   */
  private final int[] recentPayloads = new int[8];
  private int recentCount;
  private static final java.util.regex.Pattern DROPPED_SIZE =
      java.util.regex.Pattern.compile("^" + java.util.regex.Pattern.quote(DROP_PREFIX) + "frame of (\\d+) bytes");
  private final Framer.Sink toPrepared = (b, off, len) -> {
    if (preparedSize + len > prepared.length) prepared = java.util.Arrays.copyOf(prepared, Math.max(2 * prepared.length, preparedSize + len));
    System.arraycopy(b, off, prepared, preparedSize, len);
    preparedSize += len;
  };
  private final ArrayDeque<String> recentLogs = new ArrayDeque<>();
  private final List<String> callLogs = new ArrayList<>();
  private int nonce;
  private int sessionId;
  private boolean established;
  /** Frames lost either way, as far as anyone noticed: device "kiln link: " reports and damaged frames from it. */
  private long linkTroubles;
  private String lastTrouble = "none";

  private Session(Transport transport, RpcOptions options) {
    this.transport = transport;
    this.toTransport = transport::write;
    this.options = options;
    this.unframer = new Unframer(options.maxFrameBytes());
    int n = options.initialNonce();
    if (n < 0) {
      do {
        n = new SecureRandom().nextInt(256);
      } while (n == 0);
    }
    this.nonce = n;
  }

  /** Handshakes over {@code transport}; on failure the transport is closed. */
  public static Session open(Transport transport, RpcOptions options) throws IOException {
    Session s = new Session(transport, options);
    try {
      s.handshake();
    } catch (IOException | RuntimeException e) {
      transport.close();
      throw e;
    }
    return s;
  }

  /** microTVM's nonce regeneration: ((n & 7) << 5 | n >> 5) + 1 on a byte, never 0. */
  static int nextNonce(int n) {
    int v = ((((n & 0x07) << 5) | (n >>> 5)) + 1) & 0xFF;
    return v == 0 ? 1 : v;
  }

  public int sessionId() { return sessionId; }

  public Transport transport() { return transport; }

  /** The last device log lines, oldest first. */
  public List<String> recentLogs() { return new ArrayList<>(recentLogs); }

  private void handshake() throws IOException {
    long start = System.nanoTime();
    long end = start + options.handshakeTimeout().toNanos();
    long retry = options.handshakeRetry().toNanos();
    int attempts = 0;
    while (true) {
      nonce = nextNonce(nonce);
      attempts++;
      sendMessage(TYPE_TERMINATE, 0, new byte[0], 0, 0);
      sendMessage(TYPE_INIT, nonce, new byte[] {1}, 0, 1);
      transport.flush();
      long attemptEnd = retry == 0 ? end : Math.min(end, System.nanoTime() + retry);
      while (true) {
        if (nextFrame()) {
          byte[] p = unframer.frameBuffer();
          int len = unframer.frameLength();
          if (len >= 4 && (p[2] & 0xFF) == TYPE_REPLY) {
            int sid = (p[0] & 0xFF) | (p[1] & 0xFF) << 8;
            if ((sid & 0xFF) == nonce && (sid >>> 8) != 0 && p[3] == 1) {
              sessionId = sid;
              established = true;
              return;
            }
          } else if (len >= 3 && (p[2] & 0xFF) == TYPE_LOG) {
            log(p, len);
          }
          continue; // boot Terminate, stale replies: ignored
        }
        while (unframer.pollProblem() != null) {
          // noise before the session: ignored, counted in the timeout message through describeSkipped
        }
        long now = System.nanoTime();
        if (now - attemptEnd >= 0) break;
        try {
          if (!readSome(attemptEnd - now) && retry != 0) break;
        } catch (LinkTimeoutException e) {
          throw new LinkTimeoutException("session handshake over " + transport + ": no StartSessionReply after "
              + Timeout.format(Duration.ofNanos(System.nanoTime() - start)) + "; " + e.getMessage()
              + logsSuffix(recentLogs()), e.waited(), e);
        }
      }
      if (System.nanoTime() - end >= 0) {
        String skipped = unframer.describeSkipped();
        throw new LinkTimeoutException("session handshake over " + transport + ": no StartSessionReply after "
            + Timeout.format(options.handshakeTimeout()) + " (" + attempts + (attempts == 1 ? " attempt" : " attempts")
            + (retry == 0 ? "" : ", one every " + Timeout.format(options.handshakeRetry())) + ")"
            + (skipped == null ? "" : "; received " + skipped) + logsSuffix(recentLogs()), options.handshakeTimeout());
      }
    }
  }

  /**
   * Reads once, waiting at most {@code waitNanos}. Returns false when that wait passed with nothing
   * (only for transports that survive a timeout; others throw).
   */
  private boolean readSome(long waitNanos) throws IOException {
    transport.timeout().readTimeout(Duration.ofNanos(Math.max(1_000_000, waitNanos)));
    int n;
    try {
      n = transport.read(readBuffer, 0, readSize());
    } catch (LinkTimeoutException e) {
      if (!established) {
        try {
          transport.flush(); // still open? then the handshake may retry
          return false;
        } catch (IOException closed) {
          throw e;
        }
      }
      throw e;
    }
    readPos = 0;
    readLimit = n;
    return true;
  }

  /**
   * How much to ask the transport for: the whole buffer while a big payload is coming, else
   * {@value #SMALL_READ} bytes. A JDK stream reads up to 8 KiB through a buffer on the stack but
   * allocates (malloc and free) a native buffer of the asked size for anything bigger, on every
   * call: small replies should not pay for that.
   */
  private int readSize() {
    long pending = unframer.payloadPending();
    return pending > SMALL_READ ? readBuffer.length : SMALL_READ;
  }

  /**
   * Feeds what was read until a frame completes: true with the frame in the unframer's buffer
   * (valid until the next call), false when everything read is used up. Never reads.
   */
  private boolean nextFrame() {
    while (readPos < readLimit) {
      readPos += unframer.feedFrame(readBuffer, readPos, readLimit - readPos);
      if (unframer.frameReady()) return true;
    }
    return false;
  }

  private void sendMessage(int type, int sid, byte[] body, int off, int len) throws IOException {
    sendMessage(type, sid, body, off, len, body, 0, 0);
  }

  /** One message whose body is {@code a[aOff, +aLen)} then {@code b[bOff, +bLen)}, framed straight from both. */
  private void sendMessage(int type, int sid, byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen)
      throws IOException {
    header[0] = (byte) sid;
    header[1] = (byte) (sid >>> 8);
    header[2] = (byte) type;
    remember(3 + aLen + bLen);
    framer.start(3 + aLen + bLen, toTransport);
    framer.payload(header, 0, 3);
    framer.payload(a, aOff, aLen);
    framer.payload(b, bOff, bLen);
    framer.finish();
  }

  /** Sends one RPC packet (u64 length + body) as a kNormal message and flushes. */
  public void send(byte[] rpcPacket) throws IOException { send(rpcPacket, 0, rpcPacket.length, rpcPacket, 0, 0); }

  /**
   * Sends one RPC packet made of {@code head[0, headLen)} and then {@code data[off, +len)} (the bulk
   * of a copy, framed from where it lies) as a kNormal message, and flushes.
   */
  void send(byte[] head, int headOff, int headLen, byte[] data, int off, int len) throws IOException {
    queue(head, headOff, headLen, data, off, len);
    transport.flush();
  }

  /**
   * As {@link #send(byte[], int, int, byte[], int, int)} without the flush: several small packets
   * then go to the device in one write, and it takes them in one read, with {@link #flush()}.
   */
  void queue(byte[] head, int headOff, int headLen, byte[] data, int off, int len) throws IOException {
    if (!established) throw new IllegalStateException("session is not established");
    sendMessage(TYPE_NORMAL, sessionId, head, headOff, headLen, data, off, len);
  }

  /** Sends what {@link #queue} left buffered. */
  void flush() throws IOException { transport.flush(); }

  /**
   * Frames a kNormal message now, into a buffer of this session, for {@link #sendPrepared()} to
   * write later: a chunked copy frames its next packet while the device still handles the last one,
   * so on two cores the host's framing and CRC cost no time. One message is prepared at a time.
   */
  void prepare(byte[] head, int headOff, int headLen, byte[] data, int off, int len) throws IOException {
    if (!established) throw new IllegalStateException("session is not established");
    header[0] = (byte) sessionId;
    header[1] = (byte) (sessionId >>> 8);
    header[2] = (byte) TYPE_NORMAL;
    preparedSize = 0;
    preparedPayload = 3 + headLen + len;
    framer.start(3 + headLen + len, toPrepared);
    framer.payload(header, 0, 3);
    framer.payload(head, headOff, headLen);
    framer.payload(data, off, len);
    framer.finish();
  }

  /** Writes the message {@link #prepare} framed, and flushes. */
  void sendPrepared() throws IOException {
    if (!established) throw new IllegalStateException("session is not established");
    if (preparedSize < 0) throw new IllegalStateException("no message was prepared");
    int n = preparedSize;
    preparedSize = -1;
    remember(preparedPayload);
    transport.write(prepared, 0, n);
    transport.flush();
  }

  private void remember(int payloadBytes) {
    recentPayloads[recentCount++ % recentPayloads.length] = payloadBytes;
  }

  /** False when the device's drop report names a frame size that none of our recent messages had. */
  private boolean mayBeOurs(String dropLine) {
    java.util.regex.Matcher m = DROPPED_SIZE.matcher(dropLine);
    if (!m.find()) return true; // no size given (a bad escape, a cut frame): it may have been ours
    long size = Long.parseLong(m.group(1));
    for (int i = 0; i < Math.min(recentCount, recentPayloads.length); i++) if (recentPayloads[i] == size) return true;
    return false;
  }

  /**
   * Writes the bytes of a request of {@code payloadBytes} that the link damaged: for tests of what
   * the host does when the device drops one of its requests.
   */
  void sendDamagedRequest(byte[] wire, int payloadBytes) throws IOException {
    remember(payloadBytes);
    sendRaw(wire);
  }

  /** Writes bytes as they are, outside any frame: for tests that corrupt the link on purpose. */
  void sendRaw(byte[] wire) throws IOException {
    transport.write(wire, 0, wire.length);
    transport.flush();
  }

  /**
   * A reply of this session already received but never asked for (a duplicated or late frame),
   * described, or null. Only looks at what was read; never waits.
   */
  String strayReply() {
    while (nextFrame()) {
      byte[] p = unframer.frameBuffer();
      int len = unframer.frameLength();
      if (len < 3) continue;
      int sid = (p[0] & 0xFF) | (p[1] & 0xFF) << 8;
      int type = p[2] & 0xFF;
      if (type == TYPE_NORMAL && sid == sessionId) {
        int code = len >= 15 ? (p[11] & 0xFF) | (p[12] & 0xFF) << 8 | (p[13] & 0xFF) << 16 | (p[14] & 0xFF) << 24 : -1;
        return "a reply nobody asked for (" + (len - 3) + " bytes, code " + code + ")";
      }
      if (type == TYPE_LOG && (sid == 0 || sid == sessionId)) log(p, len);
    }
    return null;
  }

  /**
   * How many times a frame was seen lost or damaged on this session so far: the device's "kiln
   * link: " reports (a dropped frame, bytes outside frames) and damaged frames or stray bytes from
   * the device, counted by {@link #receivePacket}. With several requests in flight a lost one
   * shifts every later reply onto the wrong request, so a pipelined exchange fails when this moves.
   */
  long linkTroubles() { return linkTroubles; }

  /** What {@link #linkTroubles()} counted last, described ("none" before any). */
  String lastTrouble() { return lastTrouble; }

  /** Log lines received since the last {@link #receive}. */
  List<String> callLogs() { return new ArrayList<>(callLogs); }

  /**
   * Waits for the next kNormal message of this session and returns its RPC packet (u64 length +
   * body). {@code call} names the request in errors.
   */
  public byte[] receive(String call, Duration replyTimeout) throws IOException {
    int n = receivePacket(call, replyTimeout);
    return java.util.Arrays.copyOfRange(packetBuffer(), 3, 3 + n);
  }

  /**
   * As {@link #receive}, without a copy: returns the packet's length; the packet is {@code
   * packetBuffer()[3, 3 + length)}, valid until the next call on this session.
   */
  int receivePacket(String call, Duration replyTimeout) throws IOException {
    callLogs.clear();
    long start = System.nanoTime();
    long end = start + replyTimeout.toNanos();
    long graceEnd = Long.MAX_VALUE;
    String suspicion = null;
    boolean firstPass = true;
    while (true) {
      while (nextFrame()) {
        byte[] p = unframer.frameBuffer();
        int len = unframer.frameLength();
        if (len < 3) continue;
        int sid = (p[0] & 0xFF) | (p[1] & 0xFF) << 8;
        int type = p[2] & 0xFF;
        if (type == TYPE_NORMAL && sid == sessionId) return len - 3;
        if (type == TYPE_LOG && (sid == 0 || sid == sessionId)) {
          String line = log(p, len);
          if (line.startsWith(ABORT_PREFIX)) throw aborted(call, line);
          if (line.startsWith(LINK_PREFIX)) {
            linkTroubles++;
            lastTrouble = "the device reported: " + line;
          }
          if (line.startsWith(DROP_PREFIX) && suspicion == null && mayBeOurs(line)) {
            suspicion = "the device reported: " + line;
            graceEnd = System.nanoTime() + options.dropGrace().toNanos();
          }
        } else if (type == TYPE_TERMINATE && established) {
          established = false;
          transport.close();
          throw new SessionTerminatedException(call + ": the device terminated the session (did it reset?)"
              + logsSuffix(callLogs));
        }
      }
      String problem;
      while ((problem = unframer.pollProblem()) != null) {
        linkTroubles++;
        lastTrouble = "from the device: " + problem;
        if (problem.contains("outside frames")) continue;
        if (suspicion == null) {
          suspicion = "a frame from the device was damaged: " + problem;
          graceEnd = System.nanoTime() + options.dropGrace().toNanos();
        }
      }
      long now = firstPass ? start : System.nanoTime(); // a reply usually takes one pass: one clock read fewer
      firstPass = false;
      long limit = Math.min(end, graceEnd);
      if (now - limit >= 0) {
        transport.close();
        if (suspicion != null) {
          throw new LinkCorruptedException(call + ": no reply; " + suspicion + logsSuffix(callLogs));
        }
        throw new LinkTimeoutException(call + ": no reply after " + Timeout.format(replyTimeout) + " (reply timeout)"
            + skippedSuffix() + logsSuffix(callLogs), replyTimeout);
      }
      try {
        transport.timeout().readTimeout(Duration.ofNanos(Math.max(1_000_000, limit - now)));
        readLimit = transport.read(readBuffer, 0, readSize());
        readPos = 0;
      } catch (LinkTimeoutException e) {
        transport.close();
        if (suspicion != null) {
          throw new LinkCorruptedException(call + ": no reply; " + suspicion + logsSuffix(callLogs), e);
        }
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        throw new LinkTimeoutException(call + ": no reply after " + Timeout.format(waited) + " (reply timeout "
            + Timeout.format(replyTimeout) + "); " + e.getMessage() + skippedSuffix() + logsSuffix(callLogs), waited, e);
      } catch (LinkClosedException e) {
        throw new LinkClosedException(call + ": " + e.getMessage() + logsSuffix(callLogs), e);
      }
    }
  }

  private String skippedSuffix() {
    String s = unframer.describeSkipped();
    return s == null ? "" : "; the device sent " + s;
  }

  private static String logsSuffix(List<String> logs) {
    return logs.isEmpty() ? "" : "\ndevice log:\n  " + String.join("\n  ", logs);
  }

  /** The buffer holding the packet {@link #receivePacket} returned, from offset 3. */
  byte[] packetBuffer() { return unframer.frameBuffer(); }

  private String log(byte[] p, int len) {
    String line = new String(p, 3, len - 3, java.nio.charset.StandardCharsets.UTF_8);
    if (recentLogs.size() == LOG_HISTORY) recentLogs.removeFirst();
    recentLogs.addLast(line);
    callLogs.add(line);
    options.logListener().accept(line);
    return line;
  }

  /** "kiln abort 0x0500: reason" arrived: wait for the link to close, then report both. */
  private DeviceAbortedException aborted(String call, String line) {
    int code = 0;
    String reason = line.substring(ABORT_PREFIX.length());
    int colon = reason.indexOf(": ");
    if (colon > 0) {
      try {
        code = Integer.decode(reason.substring(0, colon));
        reason = reason.substring(colon + 2);
      } catch (NumberFormatException e) {
        // keep the whole text
      }
    }
    String howItEnded = null;
    LinkException cause = null;
    try {
      long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() - end < 0) {
        transport.timeout().readTimeout(Duration.ofNanos(Math.max(1_000_000, end - System.nanoTime())));
        transport.read(readBuffer, 0, readBuffer.length);
      }
      howItEnded = "the link stayed open";
    } catch (LinkClosedException e) {
      cause = e;
      howItEnded = e.getMessage();
    } catch (LinkException e) {
      cause = e;
      howItEnded = "the link did not close after the abort";
    } catch (IOException e) {
      howItEnded = e.getMessage();
    }
    try {
      transport.close();
    } catch (IOException e) {
      // already closed
    }
    established = false;
    return new DeviceAbortedException(call, code, reason, howItEnded, cause);
  }

  /** Closes the transport (no message is sent: see {@link RpcClient#shutdown()}). */
  @Override public void close() throws IOException {
    established = false;
    transport.close();
  }

  @Override public String toString() {
    return "Session(" + String.format("0x%04x", sessionId) + " over " + transport + ")";
  }
}
