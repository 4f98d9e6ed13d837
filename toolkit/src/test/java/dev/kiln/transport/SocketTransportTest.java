package dev.kiln.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SocketTransportTest {
  @Test void echoesThroughALocalServerAndReportsThePeerClosing() throws Exception {
    try (ServerSocket server = new ServerSocket(0)) {
      Thread echo = new Thread(() -> {
        try (Socket s = server.accept()) {
          byte[] b = new byte[5];
          int n = s.getInputStream().readNBytes(b, 0, 5);
          s.getOutputStream().write(b, 0, n);
        } catch (Exception e) {
          // test ends
        }
      });
      echo.start();
      try (Transport t = Transport.tcp("127.0.0.1", server.getLocalPort(), Duration.ofSeconds(2))) {
        t.write("hello".getBytes());
        t.flush();
        assertArrayEquals("hello".getBytes(), ProcessTransportTest.readExactly(t, 5));
        LinkClosedException e = assertThrows(LinkClosedException.class, () -> t.read(new byte[4], 0, 4));
        assertEquals("read from tcp(127.0.0.1:" + server.getLocalPort() + "): the peer closed the connection", e.getMessage());
      }
      echo.join();
    }
  }

  @Test void aReadTimeoutNamesTheWaitAndLeavesTheSocketOpen() throws Exception {
    try (ServerSocket server = new ServerSocket(0);
        Transport t = Transport.tcp("127.0.0.1", server.getLocalPort(), Duration.ofSeconds(2));
        Socket peer = server.accept()) {
      t.timeout().readTimeout(Duration.ofMillis(100));
      LinkTimeoutException e = assertThrows(LinkTimeoutException.class, () -> t.read(new byte[4], 0, 4));
      assertTrue(e.getMessage().matches("read from tcp\\(127\\.0\\.0\\.1:\\d+\\): nothing after \\d+ ms \\(read timeout 100 ms\\)"),
          e.getMessage());
      peer.getOutputStream().write(7);
      byte[] one = new byte[1];
      assertEquals(1, t.read(one, 0, 1));
      assertEquals(7, one[0]);
    }
  }
}
