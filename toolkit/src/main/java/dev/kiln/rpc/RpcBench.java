package dev.kiln.rpc;

import dev.kiln.project.DeviceProgram;
import dev.kiln.project.Platform;
import dev.kiln.transport.Timeout;
import dev.kiln.transport.Transport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Prints RPC figures against the host device program over stdio pipes, each beside the raw pipe
 * under it measured in the same run ({@link RawPipe}, interleaved round by round so both see the
 * same machine load), with the ratio: 1 MiB copied host->device and device->host at microTVM's
 * 2 KiB packets and at 64 KiB packets against raw messages of the packet size, and the empty call
 * (GetCRTMaxPacketSize, zero arguments) against a raw round trip of the same request and reply
 * sizes. Figures only, nothing asserted. Needs gcc. Run: {@code java -cp <classes>
 * dev.kiln.rpc.RpcBench [calls] [none|same|split]}, or {@code kiln bench --link [--link-pin P]}.
 *
 * <p>Pinning: a raw pipe's round trip on this kind of VM is bimodal, depending on whether the
 * scheduler put the two processes on one core (a context switch) or on two (a cross-core wake-up),
 * and it may decide differently for the link and for the raw pipe of the same round. {@code same}
 * pins this JVM and every child (device program and raw ping-pong) to one CPU, {@code split} the JVM
 * to one and every child to another, so both sides of each ratio run the same way; {@code none}
 * leaves placement to the scheduler.
 */
public final class RpcBench {
  private static final int COPY_BYTES = 1 << 20;
  private static final int ROUNDS = 21;

  private RpcBench() {}

  /** Where the processes of a run go: see the class comment. */
  public enum Pin { NONE, SAME, SPLIT }

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Pin pin = args.length > 1 ? Pin.valueOf(args[1].toUpperCase(Locale.ROOT)) : Pin.NONE;
    run(calls, pin, System.out);
  }

  static void run(int calls, Pin pin, PrintStream out) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("kiln-rpc-bench");
    Path raw = RawPipe.build(dir);
    List<String> prefix = pin(pin, out);
    out.println("host framing: " + NativeLink.status());
    for (int packet : new int[] {2048, 65536}) {
      Path program = DeviceProgram.build(List.of(), new DeviceProgram.Sizes(packet, 2L << 20), Platform.host(),
          List.of(), dir).executable();
      out.printf(Locale.ROOT, "== host device over stdio pipes, KILN_MAX_PACKET_BYTES=%d; raw: %s ==%n", packet,
          "bench/pipe_pingpong.c, same pipes");
      bench(prefix, program, raw, packet, calls, out);
    }
    out.println("ratio: Kiln / raw, the median of the " + ROUNDS + " per-round ratios (each round runs Kiln and then the raw"
        + " pipe, so both see the same load; goal: throughput >= 0.8, round trip <= 1.2); [min..max]: per-round figures");
  }

  /**
   * Pins this JVM (all its threads, with {@code taskset -a -p}) as {@code pin} asks and returns the
   * command prefix that places a child; prints the placement, or why there is none.
   */
  static List<String> pin(Pin pin, PrintStream out) throws IOException, InterruptedException {
    if (pin == Pin.NONE) {
      out.println("pinning: none (the scheduler places the processes; raw figures may be bimodal)");
      return List.of();
    }
    List<Integer> cpus = allowedCpus();
    if (pin == Pin.SPLIT && cpus.size() < 2) {
      out.println("pinning: none (split needs two CPUs, this process may use " + cpus + ")");
      return List.of();
    }
    int self = cpus.get(0);
    String pid = Long.toString(ProcessHandle.current().pid());
    Process p;
    try {
      p = new ProcessBuilder("taskset", "-a", "-p", "-c", Integer.toString(self), pid).redirectErrorStream(true).start();
    } catch (IOException e) {
      out.println("pinning: none (cannot run taskset: " + e.getMessage() + "; apt-get install util-linux)");
      return List.of();
    }
    String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0) {
      out.println("pinning: none (taskset failed: " + log + ")");
      return List.of();
    }
    if (pin == Pin.SAME) {
      out.println("pinning: same (the JVM and every child on CPU " + self + ")");
      return List.of(); // children inherit the JVM's affinity
    }
    int other = cpus.get(1);
    out.println("pinning: split (the JVM on CPU " + self + ", the device program and the raw ping-pong on CPU " + other + ")");
    return List.of("taskset", "-c", Integer.toString(other));
  }

  /** The CPUs this process may run on ({@code Cpus_allowed_list} of /proc/self/status). */
  private static List<Integer> allowedCpus() throws IOException {
    List<Integer> cpus = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (!line.startsWith("Cpus_allowed_list:")) continue;
      for (String range : line.substring(line.indexOf(':') + 1).trim().split(",")) {
        String[] ends = range.split("-");
        int from = Integer.parseInt(ends[0]);
        int to = Integer.parseInt(ends[ends.length - 1]);
        for (int c = from; c <= to; c++) cpus.add(c);
      }
    }
    if (cpus.isEmpty()) throw new IOException("no Cpus_allowed_list in /proc/self/status (not Linux?)");
    return cpus;
  }

  private static List<String> command(List<String> prefix, Path program) {
    List<String> cmd = new java.util.ArrayList<>(prefix);
    cmd.add(program.toString());
    return cmd;
  }

  static void bench(List<String> prefix, Path program, Path raw, int packet, int calls, PrintStream out) throws IOException {
    long[] open = new long[10];
    for (int i = 0; i < open.length; i++) {
      long t0 = System.nanoTime();
      RpcClient c = RpcClient.open(Transport.process(command(prefix, program)));
      open[i] = System.nanoTime() - t0;
      c.shutdown();
    }
    print(out, "session open (spawn + handshake)", open);
    int[] sizes = emptyCallWireBytes(program);
    try (RpcClient c = RpcClient.open(Transport.process(command(prefix, program)));
        RawPipe up = RawPipe.start(prefix, raw, packet, 1);
        RawPipe down = RawPipe.start(prefix, raw, 1, packet);
        RawPipe trip = RawPipe.start(prefix, raw, sizes[0], sizes[1])) {
      RemoteFunction empty = c.getGlobalFunction(RpcClient.MAX_PACKET_FUNCTION);
      for (int i = 0; i < 2000; i++) {
        empty.call(); // warm-up
        trip.round();
      }
      int batch = Math.max(1, calls / ROUNDS);
      long[] call = new long[batch * ROUNDS];
      long[] rawTrip = new long[batch * ROUNDS];
      double[] roundRatios = new double[ROUNDS];
      for (int r = 0, k = 0; r < ROUNDS; r++) {
        for (int i = 0; i < batch; i++, k++) {
          long t0 = System.nanoTime();
          empty.call();
          long t1 = System.nanoTime();
          trip.round();
          rawTrip[k] = System.nanoTime() - t1;
          call[k] = t1 - t0;
        }
        roundRatios[r] = (double) median(Arrays.copyOfRange(call, k - batch, k))
            / median(Arrays.copyOfRange(rawTrip, k - batch, k));
      }
      out.printf(Locale.ROOT, "  empty call round trip: median %.1f us [p10 %.1f..p90 %.1f] | raw %d->%d bytes: median %.1f us"
          + " [p10 %.1f..p90 %.1f] | ratio %.2f (per round %.2f..%.2f)%n", median(call) / 1e3, pct(call, 0.1) / 1e3,
          pct(call, 0.9) / 1e3, sizes[0], sizes[1], median(rawTrip) / 1e3, pct(rawTrip, 0.1) / 1e3, pct(rawTrip, 0.9) / 1e3,
          median(roundRatios), min(roundRatios), max(roundRatios));
      byte[] data = new byte[COPY_BYTES];
      new Random(1).nextBytes(data);
      int messages = (COPY_BYTES + packet - 1) / packet;
      try (RemoteNDArray a = c.empty(new long[] {data.length}, DataType.UINT8)) {
        byte[] back = new byte[data.length]; // reused, as the raw ping-pong reuses its buffer
        for (int i = 0; i < 3; i++) {
          a.copyFrom(data);
          a.copyTo(back);
          up.time(messages);
          down.time(messages);
        }
        long[] to = new long[ROUNDS];
        long[] from = new long[ROUNDS];
        long[] rawUp = new long[ROUNDS];
        long[] rawDown = new long[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
          long t0 = System.nanoTime();
          a.copyFrom(data);
          to[i] = System.nanoTime() - t0;
          rawUp[i] = up.time(messages);
          Arrays.fill(back, (byte) 0);
          t0 = System.nanoTime();
          a.copyTo(back);
          from[i] = System.nanoTime() - t0;
          rawDown[i] = down.time(messages);
          if (!Arrays.equals(back, data)) throw new IllegalStateException("copy mismatch");
        }
        long rawBytes = (long) messages * packet;
        throughput(out, "host->device", to, rawUp, rawBytes, packet, c.copyBlock(1));
        throughput(out, "device->host", from, rawDown, rawBytes, packet, c.copyBlock(1));
      }
      c.shutdown();
    }
  }

  private static void throughput(PrintStream out, String what, long[] kiln, long[] raw, long rawBytes, int packet,
      long block) {
    double k = mbps(COPY_BYTES, median(kiln));
    double r = mbps(rawBytes, median(raw));
    double[] roundRatios = new double[kiln.length];
    for (int i = 0; i < kiln.length; i++) roundRatios[i] = mbps(COPY_BYTES, kiln[i]) / mbps(rawBytes, raw[i]);
    out.printf(Locale.ROOT, "  %s 1 MiB in %d-byte blocks: median %.1f MB/s [%.1f..%.1f] | raw %d-byte messages:"
        + " median %.1f MB/s [%.1f..%.1f] | ratio %.2f (per round %.2f..%.2f)%n", what, block, k,
        mbps(COPY_BYTES, max(kiln)), mbps(COPY_BYTES, min(kiln)), packet, r, mbps(rawBytes, max(raw)),
        mbps(rawBytes, min(raw)), median(roundRatios), min(roundRatios), max(roundRatios));
    double best = mbps(rawBytes, min(raw));
    if (r < 0.5 * best) {
      // the raw pipe's bimodal case: both processes on different CPUs, each message a cross-CPU wake-up
      out.printf(Locale.ROOT, "    (the raw pipe ran slow in most rounds: median %.1f MB/s against %.1f in its best;"
          + " this ratio flatters Kiln, run again)%n", r, best);
    }
  }

  /** Bytes on the wire one way and back for one empty call: the raw round trip moves the same. */
  private static int[] emptyCallWireBytes(Path program) throws IOException {
    Counting t = new Counting(Transport.process(List.of(program.toString())));
    try (RpcClient c = RpcClient.open(t)) {
      RemoteFunction empty = c.getGlobalFunction(RpcClient.MAX_PACKET_FUNCTION);
      empty.call();
      long w = t.written;
      long r = t.read;
      empty.call();
      int[] sizes = {(int) (t.written - w), (int) (t.read - r)};
      c.shutdown();
      return sizes;
    }
  }

  /** Counts the bytes through a transport. */
  private static final class Counting implements Transport {
    private final Transport inner;
    long written;
    long read;

    Counting(Transport inner) { this.inner = inner; }

    @Override public int read(byte[] dst, int off, int len) throws IOException {
      int n = inner.read(dst, off, len);
      read += n;
      return n;
    }

    @Override public void write(byte[] src, int off, int len) throws IOException {
      inner.write(src, off, len);
      written += len;
    }

    @Override public void flush() throws IOException { inner.flush(); }

    @Override public Timeout timeout() { return inner.timeout(); }

    @Override public boolean buffersWhileBusy() { return inner.buffersWhileBusy(); }

    @Override public void close() throws IOException { inner.close(); }
  }

  private static double mbps(long bytes, long nanos) { return bytes / 1e6 / (nanos / 1e9); }

  private static long median(long[] v) { return pct(v, 0.5); }

  private static long pct(long[] v, double p) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, (int) (s.length * p))];
  }

  private static long min(long[] v) { return Arrays.stream(v).min().orElse(0); }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double min(double[] v) { return Arrays.stream(v).min().orElse(Double.NaN); }

  private static double max(double[] v) { return Arrays.stream(v).max().orElse(Double.NaN); }

  private static long max(long[] v) { return Arrays.stream(v).max().orElse(0); }

  private static void print(PrintStream out, String what, long[] nanos) {
    out.printf(Locale.ROOT, "  %s: median %.1f us, min %.1f us, p90 %.1f us (n=%d)%n", what, median(nanos) / 1e3,
        min(nanos) / 1e3, pct(nanos, 0.9) / 1e3, nanos.length);
  }
}
