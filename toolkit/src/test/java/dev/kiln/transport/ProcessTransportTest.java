package dev.kiln.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProcessTransportTest {
  static byte[] readExactly(Transport t, int n) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    while (out.size() < n) {
      int k = t.read(buf, 0, Math.min(buf.length, n - out.size()));
      out.write(buf, 0, k);
    }
    return out.toByteArray();
  }

  @Test void bytesWrittenToCatComeBackIntact() throws Exception {
    byte[] data = new byte[300_000];
    new Random(1).nextBytes(data);
    try (Transport t = Transport.process(List.of("cat"))) {
      Thread writer = new Thread(() -> {
        try {
          t.write(data);
          t.flush();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      writer.start();
      assertArrayEquals(data, readExactly(t, data.length));
      writer.join();
    }
  }

  @Test void aWrapperThatMovesItsStdoutAroundStillTalksOverThePipe() throws Exception {
    // stdout is parked on /dev/null and back while the transport starts (strace does the like):
    // the transport must read the program's pipe whatever fd 1 named at that moment
    byte[] data = new byte[70_000];
    new Random(2).nextBytes(data);
    for (int i = 0; i < 5; i++) {
      try (Transport t = Transport.process(List.of("sh", "-c", "exec 4>&1 1>/dev/null; sleep 0.0" + i + "; exec 1>&4 4>&-; exec cat"))) {
        t.write(data);
        t.flush();
        assertArrayEquals(data, readExactly(t, data.length));
      }
    }
  }

  @Test void theEndOfTheStreamReportsExitStatusAndTheLastStderrLines() throws Exception {
    try (Transport t = Transport.process(List.of("sh", "-c", "echo starting >&2; echo 'out of memory' >&2; exit 3"))) {
      LinkClosedException e = assertThrows(LinkClosedException.class, () -> t.read(new byte[16], 0, 16));
      assertTrue(e.getMessage().matches("read from process\\(sh, pid \\d+\\) failed: device program sh \\(pid \\d+\\) "
          + "exited with status 3; last stderr lines:\n  starting\n  out of memory"), e.getMessage());
    }
  }

  @Test void aSilentProgramTimesOutNamingTheWaitAndIsStopped() throws Exception {
    Transport t = Transport.process(List.of("sleep", "30"));
    t.timeout().readTimeout(Duration.ofMillis(200));
    long start = System.nanoTime();
    LinkTimeoutException e = assertThrows(LinkTimeoutException.class, () -> t.read(new byte[16], 0, 16));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms >= 190 && ms < 2000, ms + " ms");
    assertTrue(e.getMessage().matches("read from process\\(sleep, pid \\d+\\): nothing after \\d+ ms \\(read timeout "
        + "200 ms\\); the device program was stopped"), e.getMessage());
    assertThrows(LinkClosedException.class, () -> t.read(new byte[1], 0, 1));
  }

  @Test void aDeadlineBoundsAWholeJobAcrossReads() throws Exception {
    try (Transport t = Transport.process(List.of("sh", "-c", "while true; do printf x; sleep 0.05; done"))) {
      t.timeout().readTimeout(Duration.ofSeconds(5)).deadline(Deadline.after(Duration.ofMillis(300), "flashing"));
      LinkTimeoutException e = assertThrows(LinkTimeoutException.class, () -> {
        while (true) t.read(new byte[1], 0, 1);
      });
      assertTrue(e.getMessage().contains("the deadline of flashing (300 ms)"), e.getMessage());
    }
  }

  @Test void writingToAProgramThatExitedReportsItsStatus() throws Exception {
    try (Transport t = Transport.process(List.of("sh", "-c", "exit 5"))) {
      Thread.sleep(200);
      LinkClosedException e = assertThrows(LinkClosedException.class, () -> {
        for (int i = 0; i < 100; i++) {
          t.write(new byte[65536]);
          t.flush();
        }
      });
      assertTrue(e.getMessage().contains("exited with status 5; it printed nothing on stderr"), e.getMessage());
    }
  }

  @Test void closeIsIdempotentAndStopsTheProgram() throws Exception {
    ProcessTransport t = (ProcessTransport) Transport.process(List.of("sleep", "30"));
    long pid = t.pid();
    t.close();
    t.close();
    assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    assertEquals("process(sleep, pid " + pid + ")", t.toString());
  }

  @Test void aMissingProgramIsALinkFailureNamingIt() {
    LinkClosedException e = assertThrows(LinkClosedException.class,
        () -> Transport.process(List.of("/nonexistent/kiln-device")));
    assertTrue(e.getMessage().startsWith("cannot start device program /nonexistent/kiln-device: "), e.getMessage());
  }
}
