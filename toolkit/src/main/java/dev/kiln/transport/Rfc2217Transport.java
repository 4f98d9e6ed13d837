package dev.kiln.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;

/**
 * A serial port served over the network by an RFC 2217 (telnet COM-PORT-OPTION) server such as
 * ser2net's {@code telnet(rfc2217)} accepter, on top of a TCP {@link Transport}. Minimal and
 * correct: at connect it offers COM-PORT-OPTION, BINARY both ways and SUPPRESS-GO-AHEAD, waits until
 * the server agrees to COM-PORT-OPTION, then sets the far port to the baud rate, 8 data bits, no
 * parity, one stop bit and no flow control. Afterwards data is telnet-escaped (0xFF doubled both
 * ways); the server's option requests are answered (any option not listed above is refused once),
 * its COM-PORT notifications (modem and line state, acknowledgements) are read and dropped.
 */
final class Rfc2217Transport implements Transport {
  static final int IAC = 0xFF;
  static final int DONT = 0xFE;
  static final int DO = 0xFD;
  static final int WONT = 0xFC;
  static final int WILL = 0xFB;
  static final int SB = 0xFA;
  static final int SE = 0xF0;
  static final int BINARY = 0;
  static final int SUPPRESS_GO_AHEAD = 3;
  static final int COM_PORT_OPTION = 44;
  // client-to-server COM-PORT-OPTION commands (the server answers with the same code + 100)
  static final int SET_BAUDRATE = 1;
  static final int SET_DATASIZE = 2;
  static final int SET_PARITY = 3;
  static final int SET_STOPSIZE = 4;
  static final int SET_CONTROL = 5;

  private enum State { DATA, IAC, COMMAND, SUB, SUB_IAC }

  private final Transport link;
  private final String name;
  private final byte[] raw = new byte[4096];
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream(); // data read during negotiation
  private final ByteArrayOutputStream sub = new ByteArrayOutputStream();
  private State state = State.DATA;
  private int command;
  private boolean comPortAgreed;
  private boolean comPortRefused;
  private long baudAcknowledged = -1;
  // what we have already answered, so that a repeated request gets no second answer (no loops)
  private final boolean[] answeredDo = new boolean[256];
  private final boolean[] answeredWill = new boolean[256];

  private Rfc2217Transport(Transport link, String name) {
    this.link = link;
    this.name = name;
  }

  /** Connects and negotiates; the far port is set to {@code baudRate} 8N1, no flow control. */
  static Rfc2217Transport connect(String host, int port, int baudRate, Duration timeout) throws IOException {
    Transport tcp = Transport.tcp(host, port, timeout);
    Rfc2217Transport t = new Rfc2217Transport(tcp, "rfc2217(" + host + ":" + port + " @" + baudRate + ")");
    try {
      t.negotiate(baudRate, timeout);
    } catch (IOException | RuntimeException e) {
      tcp.close();
      throw e;
    }
    return t;
  }

  private void negotiate(int baudRate, Duration timeout) throws IOException {
    sendOption(WILL, COM_PORT_OPTION);
    sendOption(WILL, BINARY);
    sendOption(DO, BINARY);
    sendOption(WILL, SUPPRESS_GO_AHEAD);
    sendOption(DO, SUPPRESS_GO_AHEAD);
    answeredDo[COM_PORT_OPTION] = answeredDo[BINARY] = answeredDo[SUPPRESS_GO_AHEAD] = true;
    answeredWill[BINARY] = answeredWill[SUPPRESS_GO_AHEAD] = true;
    link.flush();
    Duration saved = link.timeout().readTimeout();
    long end = System.nanoTime() + timeout.toNanos();
    try {
      while (!comPortAgreed) {
        if (comPortRefused) throw new LinkClosedException(name + ": the server refused the COM-PORT option (RFC 2217); "
            + "is this a telnet(rfc2217) port? Use tcp://host:port for a raw one");
        long left = end - System.nanoTime();
        if (left <= 0) {
          throw new LinkTimeoutException(name + ": the server did not agree to COM-PORT-OPTION within "
              + Timeout.format(timeout) + "; is this an RFC 2217 server? Use tcp://host:port for a raw port", timeout);
        }
        link.timeout().readTimeout(Duration.ofNanos(left));
        int n;
        try {
          n = link.read(raw, 0, raw.length);
        } catch (LinkTimeoutException e) {
          continue; // the loop reports it with the reason
        }
        parse(raw, 0, n, pending);
      }
    } finally {
      link.timeout().readTimeout(saved);
    }
    byte[] baud = {(byte) (baudRate >>> 24), (byte) (baudRate >>> 16), (byte) (baudRate >>> 8), (byte) baudRate};
    sendComPort(SET_BAUDRATE, baud);
    sendComPort(SET_DATASIZE, new byte[] {8});
    sendComPort(SET_PARITY, new byte[] {1}); // NONE
    sendComPort(SET_STOPSIZE, new byte[] {1}); // 1 stop bit
    sendComPort(SET_CONTROL, new byte[] {1}); // no flow control
    link.flush();
  }

  private void sendOption(int verb, int option) throws IOException {
    link.write(new byte[] {(byte) IAC, (byte) verb, (byte) option});
  }

  private void sendComPort(int command, byte[] value) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(IAC);
    b.write(SB);
    b.write(COM_PORT_OPTION);
    b.write(command);
    for (byte v : value) {
      b.write(v);
      if ((v & 0xFF) == IAC) b.write(IAC);
    }
    b.write(IAC);
    b.write(SE);
    link.write(b.toByteArray());
  }

  /** Splits telnet input into data (appended to {@code data}) and commands (handled); keeps state across calls. */
  private void parse(byte[] in, int off, int len, ByteArrayOutputStream data) throws IOException {
    boolean answered = false;
    for (int i = off; i < off + len; i++) {
      int b = in[i] & 0xFF;
      switch (state) {
        case DATA -> {
          if (b == IAC) state = State.IAC;
          else data.write(b);
        }
        case IAC -> {
          if (b == IAC) {
            data.write(IAC);
            state = State.DATA;
          } else if (b == WILL || b == WONT || b == DO || b == DONT) {
            command = b;
            state = State.COMMAND;
          } else if (b == SB) {
            sub.reset();
            state = State.SUB;
          } else {
            state = State.DATA; // NOP, GA, break, ...: nothing to do
          }
        }
        case COMMAND -> {
          answered |= answer(command, b);
          state = State.DATA;
        }
        case SUB -> {
          if (b == IAC) state = State.SUB_IAC;
          else sub.write(b);
        }
        case SUB_IAC -> {
          if (b == SE) {
            subnegotiation(sub.toByteArray());
            state = State.DATA;
          } else {
            sub.write(b); // IAC IAC inside a subnegotiation is one 0xFF
            state = State.SUB;
          }
        }
      }
    }
    if (answered) link.flush();
  }

  /** Answers one option request; returns true if something was sent. */
  private boolean answer(int verb, int option) throws IOException {
    boolean ours = option == BINARY || option == SUPPRESS_GO_AHEAD || option == COM_PORT_OPTION;
    switch (verb) {
      case DO -> {
        if (option == COM_PORT_OPTION) comPortAgreed = true;
        if (answeredDo[option]) return false;
        answeredDo[option] = true;
        sendOption(ours ? WILL : WONT, option);
        return true;
      }
      case DONT -> {
        if (option == COM_PORT_OPTION) comPortRefused = true;
        return false;
      }
      case WILL -> {
        if (answeredWill[option]) return false;
        answeredWill[option] = true;
        sendOption(ours && option != COM_PORT_OPTION ? DO : DONT, option);
        return true;
      }
      default -> {
        return false; // WONT: nothing to answer
      }
    }
  }

  private void subnegotiation(byte[] s) {
    if (s.length >= 2 && (s[0] & 0xFF) == COM_PORT_OPTION && (s[1] & 0xFF) == SET_BAUDRATE + 100 && s.length >= 6) {
      baudAcknowledged = ((s[2] & 0xFFL) << 24) | ((s[3] & 0xFFL) << 16) | ((s[4] & 0xFFL) << 8) | (s[5] & 0xFFL);
    }
  }

  /** The baud rate the server acknowledged, or -1 if it did not (ser2net in front of a TCP port never does). */
  long baudAcknowledged() { return baudAcknowledged; }

  @Override public int read(byte[] dst, int off, int len) throws IOException {
    while (true) {
      if (pending.size() > 0) {
        byte[] p = pending.toByteArray();
        int n = Math.min(len, p.length);
        System.arraycopy(p, 0, dst, off, n);
        pending.reset();
        pending.write(p, n, p.length - n);
        return n;
      }
      int n = link.read(raw, 0, Math.min(raw.length, Math.max(len, 16)));
      parse(raw, 0, n, pending);
    }
  }

  @Override public void write(byte[] src, int off, int len) throws IOException {
    // escape 0xFF as IAC IAC into one buffer: one socket write per call, not one per 0xFF
    int iacs = 0;
    for (int i = off; i < off + len; i++) if ((src[i] & 0xFF) == IAC) iacs++;
    if (iacs == 0) {
      link.write(src, off, len);
      return;
    }
    byte[] escaped = new byte[len + iacs];
    int k = 0;
    for (int i = off; i < off + len; i++) {
      escaped[k++] = src[i];
      if ((src[i] & 0xFF) == IAC) escaped[k++] = (byte) IAC;
    }
    link.write(escaped, 0, escaped.length);
  }

  @Override public void flush() throws IOException { link.flush(); }

  @Override public Timeout timeout() { return link.timeout(); }

  @Override public void close() throws IOException { link.close(); }

  @Override public String toString() { return name; }
}
