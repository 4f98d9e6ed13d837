package dev.kiln.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pipe under the RPC link, measured the way the link uses it: a child process on stdin/stdout
 * (bench/pipe_pingpong.c, built with gcc -O2 at bench time) that reads IN bytes and answers OUT
 * bytes, driven through the process's own streams with no framing, session or RPC. Benchmarks set
 * each RPC figure beside it, from the same run, as a ratio. Not thread-safe.
 */
final class RawPipe implements AutoCloseable {
  private static final long WAIT_SECONDS = 30;

  private final Process process;
  private final OutputStream out;
  private final InputStream in;
  private final byte[] request;
  private final byte[] answer;

  private RawPipe(Process process, int in, int out) {
    this.process = process;
    this.out = process.getOutputStream();
    this.in = process.getInputStream();
    this.request = new byte[in];
    this.answer = new byte[out];
    java.util.Arrays.fill(request, (byte) 0x5a);
  }

  /** Compiles the ping-pong program into {@code dir} and returns its path. */
  static Path build(Path dir) throws IOException, InterruptedException {
    Path source = dir.resolve("pipe_pingpong.c");
    try (InputStream s = RawPipe.class.getResourceAsStream("/dev/kiln/bench/pipe_pingpong.c")) {
      if (s == null) throw new IOException("missing resource /dev/kiln/bench/pipe_pingpong.c");
      Files.copy(s, source, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Path exe = dir.resolve("pipe_pingpong");
    List<String> cmd = new ArrayList<>(List.of("gcc", "-std=c99", "-O2", source.toString(), "-o", exe.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] log = p.getInputStream().readAllBytes();
    if (!p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("gcc did not finish building the pipe ping-pong within " + WAIT_SECONDS + " s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + new String(log));
    }
    return exe;
  }

  /**
   * Starts {@code program} after the command {@code prefix} (e.g. {@code taskset -c 1}, empty for
   * none): each round the host writes {@code in} bytes and reads {@code out}.
   */
  static RawPipe start(List<String> prefix, Path program, int in, int out) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of(program.toString(), Integer.toString(in), Integer.toString(out)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    return new RawPipe(p, in, out);
  }

  /** One round: write the request, flush, read the whole answer. */
  void round() throws IOException {
    out.write(request);
    out.flush();
    int got = 0;
    while (got < answer.length) {
      int n = in.read(answer, got, answer.length - got);
      if (n < 0) throw new IOException("the pipe ping-pong program ended early");
      got += n;
    }
  }

  /** Nanoseconds for {@code rounds} rounds. */
  long time(int rounds) throws IOException {
    long t0 = System.nanoTime();
    for (int i = 0; i < rounds; i++) round();
    return System.nanoTime() - t0;
  }

  @Override public void close() throws IOException {
    try {
      out.close();
      if (!process.waitFor(2, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
