package dev.kiln.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.testing.FaultyTransport;
import dev.kiln.testing.FaultyTransport.Direction;
import dev.kiln.testing.FaultyTransport.Fault;
import dev.kiln.testing.FaultyTransport.Kind;
import dev.kiln.transport.LinkCorruptedException;
import dev.kiln.transport.LinkException;
import dev.kiln.transport.LinkTimeoutException;
import dev.kiln.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Copies over a process pipe, which buffers while the device is busy, keep several packets in
 * flight (RpcClient.pipelined): every byte still arrives at every size around the packet and window
 * boundaries; a packet the device refuses fails the copy once, after every reply in flight is read,
 * and the session goes on; a frame damaged or lost while packets are in flight (its reply would
 * shift onto the next request) ends the session with one clear error, never a wrong copy.
 */
class PipelinedCopyTest {
  private static final RpcOptions SHORT = RpcOptions.builder().replyTimeout(Duration.ofSeconds(2)).build();

  private static RpcClient open() throws Exception { return RpcClient.open(TestDevice.start()); }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test void theProcessLinkPipelinesAndEveryByteArrivesAroundPacketAndWindowBoundaries() throws Exception {
    try (RpcClient c = open()) {
      assertTrue(c.session().transport().buffersWhileBusy(), "a process pipe buffers while the device is busy");
      int block = (int) c.copyBlock(1);
      int window = RpcClient.PIPELINE_BYTES / block; // packets in flight at once
      for (int n : new int[] {block - 1, block, block + 1, 2 * block + 1, window * block - 1, window * block + 1,
          3 * window * block + 17}) {
        byte[] data = random(n, n);
        try (RemoteNDArray a = c.empty(new long[] {n}, DataType.UINT8)) {
          a.copyFrom(data);
          assertArrayEquals(data, a.toByteArray(), n + " bytes");
        }
      }
    }
  }

  @Test void aPacketTheDeviceRefusesFailsTheCopyOnceAndTheSessionGoesOn() throws Exception {
    try (RpcClient c = open(); RemoteNDArray a = c.empty(new long[] {3000}, DataType.UINT8)) {
      int block = (int) c.copyBlock(1);
      // the same address with a shape past the allocation: packet 0 fits, packets 1.. do not
      TensorRecord tooLong = new TensorRecord(a.record().data(), Device.CPU, DataType.UINT8, new long[] {8 * block}, 0);
      RemoteException to = assertThrows(RemoteException.class, () -> c.copyToRemote(tooLong, new byte[8 * block]));
      assertTrue(to.getMessage().startsWith("CopyToRemote(" + 8 * block + " bytes to 0x"), to.getMessage());
      assertTrue(to.deviceMessage().startsWith("CopyToRemote: " + block + " bytes at 0x"), to.deviceMessage());
      assertTrue(c.isOpen());
      RemoteException from = assertThrows(RemoteException.class, () -> c.copyFromRemote(tooLong));
      assertTrue(from.deviceMessage().startsWith("CopyFromRemote: " + block + " bytes at 0x"), from.deviceMessage());
      // no reply of the refused copies is left over: the next exchanges get their own
      byte[] data = random(3000, 5);
      a.copyFrom(data);
      assertArrayEquals(data, a.toByteArray());
      assertEquals(c.maxTransfer(), c.getGlobalFunction(RpcClient.MAX_PACKET_FUNCTION).callLong());
    }
  }

  /** A fresh device whose link does {@code kind} 700 bytes into the third 2048-byte packet of a copy starting at {@code copyStart}. */
  private static FaultyTransport inThirdPacket(Kind kind, Direction direction, long copyStart) throws Exception {
    return FaultyTransport.wrap(TestDevice.start(), new Fault(kind, direction, copyStart + 2 * 2048 + 700, Duration.ZERO));
  }

  /** Bytes to the device from the start of the session to the copy's first packet. */
  private static long bytesBeforeCopy() throws Exception {
    FaultyTransport count = FaultyTransport.wrap(TestDevice.start(), null);
    try (RpcClient c = RpcClient.open(count, SHORT); RemoteNDArray a = c.empty(new long[] {20_000}, DataType.UINT8)) {
      c.copyBlock(1);
      return count.bytesToDevice();
    }
  }

  @Test void aRequestDamagedWhileOthersAreInFlightEndsTheSessionAsCorrupted() throws Exception {
    long copyStart = bytesBeforeCopy();
    // a bit flipped in the third packet: the device drops that frame and answers the fourth in its place
    FaultyTransport link = inThirdPacket(Kind.FLIP, Direction.TO_DEVICE, copyStart);
    RpcClient c = RpcClient.open(link, SHORT);
    RemoteNDArray a = c.empty(new long[] {20_000}, DataType.UINT8);
    c.copyBlock(1);
    LinkCorruptedException e = assertThrows(LinkCorruptedException.class, () -> a.copyFrom(random(20_000, 3)));
    assertTrue(link.fired());
    assertTrue(e.getMessage().startsWith("CopyToRemote(20000 bytes to 0x"), e.getMessage());
    assertTrue(e.getMessage().contains("a frame was lost or damaged while"), e.getMessage());
    assertTrue(e.getMessage().contains("(the device reported: kiln link: dropped"), e.getMessage());
    assertFalse(c.isOpen(), "closed: replies can no longer be matched to requests");
  }

  @Test void aRequestLostWhileOthersAreInFlightEndsInAReplyTimeoutNotAWrongCopy() throws Exception {
    long copyStart = bytesBeforeCopy();
    // the whole third packet never arrives: one reply fewer than requests
    FaultyTransport link = inThirdPacket(Kind.DROP, Direction.TO_DEVICE, copyStart);
    RpcClient c = RpcClient.open(link, SHORT);
    RemoteNDArray a = c.empty(new long[] {20_000}, DataType.UINT8);
    c.copyBlock(1);
    long start = System.nanoTime();
    LinkException e = assertThrows(LinkException.class, () -> a.copyFrom(random(20_000, 4)));
    assertTrue(link.fired());
    assertTrue(e instanceof LinkTimeoutException || e instanceof LinkCorruptedException, e.toString());
    assertTrue(e.getMessage().startsWith("CopyToRemote(20000 bytes to 0x"), e.getMessage());
    assertTrue((System.nanoTime() - start) / 1_000_000 < 5000, "bounded by the reply timeout");
    assertFalse(c.isOpen());
  }

  @Test void aReplyDamagedWhileOthersAreInFlightEndsTheSessionAsCorrupted() throws Exception {
    FaultyTransport count = FaultyTransport.wrap(TestDevice.start(), null);
    long copyStart;
    byte[] data = random(20_000, 6);
    try (RpcClient c = RpcClient.open(count, SHORT); RemoteNDArray a = c.empty(new long[] {20_000}, DataType.UINT8)) {
      c.copyBlock(1);
      a.copyFrom(data);
      copyStart = count.bytesFromDevice();
    }
    // a bit flipped in the device's third CopyFromRemote reply: the host drops it and would take the fourth for it
    FaultyTransport link = inThirdPacket(Kind.FLIP, Direction.FROM_DEVICE, copyStart);
    RpcClient c = RpcClient.open(link, SHORT);
    RemoteNDArray a = c.empty(new long[] {20_000}, DataType.UINT8);
    c.copyBlock(1);
    a.copyFrom(data);
    LinkCorruptedException e = assertThrows(LinkCorruptedException.class, a::toByteArray);
    assertTrue(link.fired());
    assertTrue(e.getMessage().startsWith("CopyFromRemote(20000 bytes from 0x"), e.getMessage());
    assertTrue(e.getMessage().contains("from the device: "), e.getMessage());
    assertFalse(c.isOpen());
  }

  /**
   * A process link that counts writes made with no read since the previous write (frames sent
   * before the last one was answered: each frame here is one write), and says it buffers or not as told.
   */
  private static final class Watched implements Transport {
    final Transport inner = TestDevice.start();
    final boolean buffers;
    int writesAhead;
    private boolean wroteSinceRead;

    Watched(boolean buffers) throws java.io.IOException { this.buffers = buffers; }

    @Override public int read(byte[] dst, int off, int len) throws java.io.IOException {
      wroteSinceRead = false;
      return inner.read(dst, off, len);
    }

    @Override public void write(byte[] src, int off, int len) throws java.io.IOException {
      if (wroteSinceRead) writesAhead++;
      wroteSinceRead = true;
      inner.write(src, off, len);
    }

    @Override public void flush() throws java.io.IOException { inner.flush(); }

    @Override public dev.kiln.transport.Timeout timeout() { return inner.timeout(); }

    @Override public boolean buffersWhileBusy() { return buffers; }

    @Override public void close() throws java.io.IOException { inner.close(); }
  }

  @Test void onlyALinkThatBuffersGetsRequestsAheadOfReplies() throws Exception {
    byte[] data = random(20_000, 8);
    for (boolean buffers : new boolean[] {true, false}) {
      Watched link = new Watched(buffers);
      try (RpcClient c = RpcClient.open(link); RemoteNDArray a = c.empty(new long[] {data.length}, DataType.UINT8)) {
        c.copyBlock(1);
        int before = link.writesAhead;
        a.copyFrom(data);
        int aheadTo = link.writesAhead - before;
        assertArrayEquals(data, a.toByteArray());
        int aheadFrom = link.writesAhead - before - aheadTo;
        if (buffers) {
          assertTrue(aheadTo > 0 && aheadFrom > 0, "pipelined: " + aheadTo + " and " + aheadFrom + " frames ahead");
        } else {
          assertEquals(0, aheadTo + aheadFrom, "like a UART: one request at a time");
        }
      }
    }
  }
}
