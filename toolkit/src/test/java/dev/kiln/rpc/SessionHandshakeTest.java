package dev.kiln.rpc;

import static dev.kiln.rpc.WireVectors.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.transport.LinkTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SessionHandshakeTest {
  static final RpcOptions RECORDED = RpcOptions.builder().initialNonce(0x2A).build();

  @Test void nonceRegenerationFollowsMicroTvm() {
    assertEquals(0x42, Session.nextNonce(0x2A));
    assertEquals(0x23, Session.nextNonce(0x59));
    assertEquals(0x62, Session.nextNonce(0x23));
    assertEquals(0x44, Session.nextNonce(0x62));
    for (int n = 0; n < 256; n++) assertTrue(Session.nextNonce(n) != 0);
  }

  @Test void hostSendsTerminateThenInitAndAcceptsTheRecordedReply() throws Exception {
    ReplayTransport t = new ReplayTransport().deviceSends(BOOT).step(HOST_TERMINATE + " " + INIT_42, REPLY_2342);
    Session s = Session.open(t, RECORDED);
    assertEquals(0x2342, s.sessionId());
    assertTrue(t.finished());
  }

  @Test void aReplyForAnotherNonceIsIgnoredAndTheHandshakeTimesOut() {
    // device answers init 21 (session 0x2321), not ours (0x42)
    ReplayTransport t = new ReplayTransport().deviceSends(BOOT)
        .step(HOST_TERMINATE + " " + INIT_42, "ff fd 04 00 00 00 21 23 01 01 " + crcOf("ff fd 04 00 00 00 21 23 01 01"));
    LinkTimeoutException e = assertThrows(LinkTimeoutException.class,
        () -> Session.open(t, RECORDED.toBuilder().handshakeTimeout(Duration.ofMillis(200)).build()));
    assertTrue(e.getMessage().startsWith("session handshake over replay: no StartSessionReply after"), e.getMessage());
    assertTrue(t.isClosed());
  }

  @Test void logsBeforeTheReplyAreDeliveredAndTheSessionStillOpens() throws Exception {
    StringBuilder seen = new StringBuilder();
    ReplayTransport t = new ReplayTransport().deviceSends(BOOT + " " + LOG_FRAME)
        .step(HOST_TERMINATE + " " + INIT_42, REPLY_2342);
    Session s = Session.open(t, RECORDED.toBuilder().logListener(seen::append).build());
    assertEquals("hello kiln", seen.toString());
    assertEquals(0x2342, s.sessionId());
  }

  @Test void retriesResendTerminateAndAFreshInitWithTheNextNonce() throws Exception {
    // first attempt unanswered; the retry uses nonce 0x43 (next after 0x42) and no leading fe
    String init43 = "ff fd 04 00 00 00 43 00 00 01 6b 2c";
    String reply = "ff fd 04 00 00 00 43 62 01 01 51 ea";
    ReplayTransport t = new ReplayTransport().deviceSends(BOOT)
        .step(HOST_TERMINATE + " " + INIT_42, "")
        .step("ff fd 03 00 00 00 00 00 02 66 77 " + init43, reply);
    RpcOptions o = RpcOptions.builder().initialNonce(0x2A).handshakeRetry(Duration.ofMillis(50))
        .handshakeTimeout(Duration.ofSeconds(2)).build();
    assertEquals(0x43, Session.nextNonce(0x42));
    Session s = Session.open(t, o);
    assertEquals(0x6243, s.sessionId());
  }

  static String crcOf(String hex) {
    int crc = Crc16.of(hex(hex));
    return String.format("%02x %02x", crc & 0xFF, crc >>> 8);
  }
}
