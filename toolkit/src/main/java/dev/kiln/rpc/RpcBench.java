package dev.kiln.rpc;

import dev.kiln.project.DeviceProgram;
import dev.kiln.project.Platform;
import dev.kiln.transport.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Prints RPC figures against the host device program over stdio pipes (no assertions): session
 * open time, round-trip latency of an empty remote call (GetCRTMaxPacketSize, zero arguments),
 * and 1 MiB copy throughput each way, for microTVM's default 2 KiB packets and for 64 KiB packets.
 * Needs gcc. Run: {@code java -cp <classes> dev.kiln.rpc.RpcBench [calls]}.
 */
public final class RpcBench {
  private RpcBench() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Path dir = Files.createTempDirectory("kiln-rpc-bench");
    for (int packet : new int[] {2048, 65536}) {
      Path program = DeviceProgram.build(List.of(), new DeviceProgram.Sizes(packet, 2L << 20), Platform.host(),
          List.of("KILN_READ_CHUNK_BYTES=4096"), dir).executable();
      System.out.printf(Locale.ROOT, "== host device, stdio pipes, KILN_MAX_PACKET_BYTES=%d ==%n", packet);
      bench(program, calls);
    }
  }

  static void bench(Path program, int calls) throws IOException {
    long[] open = new long[20];
    for (int i = 0; i < open.length; i++) {
      long t0 = System.nanoTime();
      RpcClient c = RpcClient.open(Transport.process(List.of(program.toString())));
      open[i] = System.nanoTime() - t0;
      c.shutdown();
    }
    print("session open (spawn + handshake)", open);
    try (RpcClient c = RpcClient.open(Transport.process(List.of(program.toString())))) {
      RemoteFunction empty = c.getGlobalFunction(RpcClient.MAX_PACKET_FUNCTION);
      for (int i = 0; i < 2000; i++) empty.call(); // warm-up
      long[] t = new long[calls];
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        empty.call();
        t[i] = System.nanoTime() - t0;
      }
      print("empty call round trip", t);
      byte[] data = new byte[1 << 20];
      new Random(1).nextBytes(data);
      try (RemoteNDArray a = c.empty(new long[] {data.length}, DataType.UINT8)) {
        for (int i = 0; i < 3; i++) {
          a.copyFrom(data);
          a.toByteArray();
        }
        int reps = 10;
        long[] to = new long[reps];
        long[] from = new long[reps];
        for (int i = 0; i < reps; i++) {
          long t0 = System.nanoTime();
          a.copyFrom(data);
          long t1 = System.nanoTime();
          byte[] back = a.toByteArray();
          long t2 = System.nanoTime();
          if (!Arrays.equals(back, data)) throw new IllegalStateException("copy mismatch");
          to[i] = t1 - t0;
          from[i] = t2 - t1;
        }
        System.out.printf(Locale.ROOT, "  copy 1 MiB to device:   median %.1f MB/s, best %.1f MB/s (%d-byte blocks)%n",
            mbps(data.length, median(to)), mbps(data.length, min(to)), c.copyBlock(1));
        System.out.printf(Locale.ROOT, "  copy 1 MiB from device: median %.1f MB/s, best %.1f MB/s%n",
            mbps(data.length, median(from)), mbps(data.length, min(from)));
      }
      c.shutdown();
    }
  }

  private static double mbps(long bytes, long nanos) { return bytes / 1e6 / (nanos / 1e9); }

  private static long median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long min(long[] v) { return Arrays.stream(v).min().orElse(0); }

  private static void print(String what, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    System.out.printf(Locale.ROOT, "  %s: median %.1f us, min %.1f us, p90 %.1f us (n=%d)%n", what, s[s.length / 2] / 1e3,
        s[0] / 1e3, s[(int) (s.length * 0.9)] / 1e3, s.length);
  }
}
