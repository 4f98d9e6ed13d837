package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Tensor;
import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.GeneratedFile;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.Compiler;
import dev.kiln.frontend.tflite.TfliteReader;
import dev.kiln.ir.Graph;
import dev.kiln.micro.GraphExecutor;
import dev.kiln.micro.Session;
import dev.kiln.project.DeviceProgram;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.rpc.Unframer;
import dev.kiln.testing.FaultyTransport;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device's receive path (framing, session, RPC server, executors, a generated system library)
 * under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer ({@code clang
 * -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all}); harness in
 * {@code src/test/c/fuzz/kiln_receive_fuzzer.c}. Seeds: transcripts of a real host session with
 * the digits model (recorded here through {@link FaultyTransport} without a fault), crafted
 * packets, and the committed corpus {@code src/test/resources/fuzz/device-receive/}.
 *
 * <p>Every run replays the regression inputs, then fuzzes for {@code kiln.fuzz.seconds} (25).
 * The long campaign, merging what it finds into the committed corpus:
 * <pre>
 * mvn -o test -pl toolkit -Dtest=DeviceReceiveFuzzTest -Dkiln.fuzz.seconds=3600 -Dkiln.fuzz.merge=true
 * </pre>
 */
class DeviceReceiveFuzzTest {
  static final Path CORPUS = Path.of("src/test/resources/fuzz/device-receive").toAbsolutePath();
  static final Path HARNESS = Path.of("src/test/c/fuzz/kiln_receive_fuzzer.c").toAbsolutePath();
  static final Path RUNTIME = Path.of("src/main/c").toAbsolutePath();
  static final int SECONDS = Integer.getInteger("kiln.fuzz.seconds", 25);
  static final boolean MERGE = Boolean.getBoolean("kiln.fuzz.merge");
  /** The harness pins the device's nonce seed to this (FUZZ_RANDOM_BYTE) so transcripts replay. */
  static final int RANDOM_BYTE = 0x5A;
  private static final Pattern EXECUTED = Pattern.compile("stat::number_of_executed_units:\\s*(\\d+)");

  static Path fuzzer;
  static DeviceModelWriter writer;
  static String inputName;
  @TempDir Path tmp;

  @BeforeAll
  static void build() throws Exception {
    Graph g = TfliteReader.read(ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile());
    inputName = g.inputs().get(0).name();
    writer = new DeviceModelWriter(Compiler.compile(g, Kernels.support()), ExecutorConfig.graph("default"));
    fuzzer = buildFuzzer(writer.files(), DeviceProgram.Sizes.of(writer));
  }

  /** Crafted inputs that once reached undefined behaviour, and every committed corpus input, run clean. */
  @Test
  void regressionInputsRunCleanUnderTheSanitizers() throws Exception {
    Path seeds = seeds(tmp.resolve("seeds"));
    Result r = libFuzzer(List.of("-runs=0", seeds.toString(), CORPUS.toString()), Duration.ofMinutes(3));
    assertEquals(0, r.exit, "a regression input failed under the sanitizers:\n" + r.tail());
  }

  /** A short campaign from the seeds finds no crash, leak, hang or undefined behaviour. */
  @Test
  void shortCampaignFindsNothing() throws Exception {
    Path seeds = seeds(tmp.resolve("seeds"));
    Path work = Files.createDirectories(tmp.resolve("work"));
    Result r = libFuzzer(List.of("-max_total_time=" + SECONDS, "-print_final_stats=1", "-timeout=10", "-max_len=4096",
        "-artifact_prefix=" + tmp + "/", work.toString(), seeds.toString(), CORPUS.toString()),
        Duration.ofSeconds(SECONDS + 120));
    Matcher m = EXECUTED.matcher(r.output);
    long executions = m.find() ? Long.parseLong(m.group(1)) : -1;
    System.out.println("device receive path: " + executions + " fuzz executions in " + SECONDS + " s");
    assertEquals(0, r.exit, "libFuzzer found a failure (input saved under " + tmp + "):\n" + r.tail());
    assertTrue(executions > 0, "no executions reported:\n" + r.tail());
    if (MERGE) {
      Files.createDirectories(CORPUS);
      Result merged = libFuzzer(List.of("-merge=1", CORPUS.toString(), work.toString(), seeds.toString()), Duration.ofMinutes(10));
      assertEquals(0, merged.exit, merged.tail());
    }
  }

  // ---- seeds ----

  /** Recorded transcripts (raw and as framed packets) plus the crafted packets, one file each. */
  static Path seeds(Path dir) throws Exception {
    Files.createDirectories(dir);
    byte[] transcript = recordSession();
    write(dir, "transcript_raw", concat(new byte[] {(byte) 0xFC}, transcript));
    write(dir, "transcript_raw_bytewise", concat(new byte[] {0x00}, transcript));
    write(dir, "transcript_packets", concat(new byte[] {0x01}, packets(transcript)));
    // CopyToRemote with a host-chosen offset that overflows the pointer: once undefined behaviour
    // in tensor_range_ok, which formed data + byte_offset before checking it.
    write(dir, "copy_offset_overflows", structured(copy(0x1000L, 0xFFFFFFFFFFFFF800L)));
    // NULL + 0: data 0 with offset 0 (undefined in C, reported by -fsanitize=pointer-overflow).
    write(dir, "copy_null_plus_zero", structured(copy(0L, 0L)));
    return dir;
  }

  /** A fault-free session with the real host device program: create, set input, run, get output, time. */
  static byte[] recordSession() throws Exception {
    Path exe = DeviceProgram.build(writer).executable();
    Transport process = Transport.process(List.of(exe.toString(), "--random-byte", Integer.toString(RANDOM_BYTE)));
    FaultyTransport rec = FaultyTransport.wrap(process, null);
    RpcOptions options = RpcOptions.builder().initialNonce(0x2A).build();
    try (Session s = Session.open(rec, options)) {
      String json = writer.graphJson().orElseThrow().text();
      GraphExecutor ex = GraphExecutor.create(s, json, List.of(inputName));
      Case c = new Case();
      ex.setInput(0, Tensor.load(c.input()).bytes());
      ex.run();
      ex.getOutput(0);
      s.timeEvaluator(ex.module(), "run").repeat(2).number(1).measure();
    }
    return rec.written();
  }

  private static final class Case {
    Path input() { return ReferenceModels.shared("tflite", "digits_cnn_int8").input(0, 0); }
  }

  /** The RPC packets (without their u64 length) of the transcript's kNormal messages, as [u16 length][body]. */
  static byte[] packets(byte[] transcript) {
    Unframer u = new Unframer(1 << 20);
    u.feed(transcript, 0, transcript.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] p;
    while ((p = u.poll()) != null) {
      if (p.length < 11 || (p[2] & 0xFF) != 0x10) continue;
      int n = p.length - 11;
      out.write(n & 0xFF);
      out.write(n >>> 8);
      out.write(p, 11, n);
    }
    return out.toByteArray();
  }

  static byte[] structured(byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(3 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x01).putShort((short) body.length).put(body);
    return b.array();
  }

  /** CopyToRemote of 8 int8 values into {@code data + byteOffset}. */
  static byte[] copy(long data, long byteOffset) {
    ByteBuffer b = ByteBuffer.allocate(4 + 8 + 12 + 4 + 8 + 8 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(7).putLong(data).putInt(1).putInt(0).putInt(1).put((byte) 0).put((byte) 8).putShort((short) 1);
    b.putLong(8).putLong(byteOffset).putLong(8).putLong(0x0102030405060708L);
    return b.array();
  }

  private static void write(Path dir, String name, byte[] bytes) throws IOException { Files.write(dir.resolve(name), bytes); }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  // ---- building and running ----

  /** Compiles the harness, the runtime, the executors and the model's library (cached by content). */
  static Path buildFuzzer(List<GeneratedFile> generated, DeviceProgram.Sizes sizes) throws Exception {
    Map<String, String> files = new TreeMap<>();
    for (GeneratedFile f : generated) files.put("codegen/host/" + f.path(), f.text());
    for (String dir : List.of("crt", "executors")) {
      try (Stream<Path> s = Files.list(RUNTIME.resolve(dir))) {
        for (Path p : (Iterable<Path>) s::iterator) {
          String n = p.getFileName().toString();
          if (n.equals("kiln_syslib_empty.c") || !(n.endsWith(".c") || n.endsWith(".h"))) continue;
          files.put(dir + "/" + n, Files.readString(p));
        }
      }
    }
    files.put("fuzz/kiln_receive_fuzzer.c", Files.readString(HARNESS));
    List<String> cmd = new ArrayList<>(List.of("clang"));
    cmd.addAll(dev.kiln.project.CWarnings.STRICT);
    cmd.addAll(List.of("-g", "-O1", "-fsanitize=fuzzer,address,undefined",
        "-fno-sanitize-recover=all", "-Icodegen/host/include", "-Icrt", "-Iexecutors",
        "-DKILN_MAX_PACKET_BYTES=" + sizes.packetBytes(), "-DKILN_ARENA_BYTES=" + sizes.arenaBytes() + "u",
        // a timing round of at most 16 calls: the work a packet asks for stays within the fuzzer's per-input timeout
        "-DKILN_MAX_TIME_NUMBER=16"));
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(String.join(" ", cmd).getBytes(StandardCharsets.UTF_8));
    files.forEach((k, v) -> {
      md.update(k.getBytes(StandardCharsets.UTF_8));
      md.update(v.getBytes(StandardCharsets.UTF_8));
    });
    String hash = HexFormat.of().formatHex(md.digest()).substring(0, 20);
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "kiln-fuzz-" + System.getProperty("user.name", "u"), hash);
    Path exe = dir.resolve("kiln-receive-fuzzer");
    if (Files.isExecutable(exe)) return exe;
    Path staging = Files.createDirectories(dir.resolveSibling(hash + ".tmp" + ProcessHandle.current().pid()));
    for (Map.Entry<String, String> e : files.entrySet()) {
      Path p = staging.resolve(e.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, e.getValue());
      if (e.getKey().endsWith(".c")) cmd.add(e.getKey());
    }
    cmd.addAll(List.of("-lm", "-o", "kiln-receive-fuzzer"));
    Result r = run(cmd, staging, Duration.ofMinutes(5));
    assertEquals(0, r.exit, "clang failed:\n" + r.output);
    Files.writeString(staging.resolve("build.txt"), String.join(" ", cmd) + "\n");
    try {
      Files.move(staging, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (!Files.isExecutable(exe)) throw e; // another build won the race
    }
    return exe;
  }

  record Result(int exit, String output) {
    String tail() {
      String[] lines = output.split("\n");
      return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 60), lines.length));
    }
  }

  static Result libFuzzer(List<String> args, Duration limit) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(fuzzer.toString());
    cmd.addAll(args);
    return run(cmd, fuzzer.getParent(), limit);
  }

  static Result run(List<String> cmd, Path dir, Duration limit) throws Exception {
    Path log = Files.createTempFile("kiln-fuzz", ".log");
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        return new Result(-1, "timed out after " + limit + ": " + cmd + "\n" + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
