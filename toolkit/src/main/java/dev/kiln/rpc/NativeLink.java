package dev.kiln.rpc;

import dev.kiln.project.CWarnings;
import dev.kiln.project.DeviceProgram;
import dev.kiln.project.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The host's framing work in C: the device runtime's own CRC-16 ({@code crt/kiln_framing.c}, carry-less
 * multiplication on x86-64) and memchr/memcpy escaping ({@code jni/kiln_link_jni.c}), built with gcc
 * into a JNI library the first time a JVM frames, cached by the hash of its sources and flags beside
 * the device programs, and loaded. At 64 KiB packets the Java CRC (about 0.5 ns/byte under C1, which
 * the launcher and the notebook kernel run) cost more than the pipe itself, both ways.
 *
 * <p>Optional: where it does not build or load (no gcc, not Linux, a CPU whose results differ from
 * Java's in the self-check) {@link Framer} and {@link Unframer} keep their Java loops, which give the
 * same bytes (FramingTest holds the two paths to each other). {@code -Dkiln.link.native=false} turns
 * it off; {@link #status()} says which path is in use and why.
 */
final class NativeLink {
  private static final String LIBRARY = "kilnlink";
  private static final String RESOURCES = "/dev/kiln/runtime/";
  private static final List<String> SOURCES = List.of("jni/kiln_link_jni.c", "crt/kiln_framing.c",
      "crt/kiln_framing.h", "crt/kiln_config.h", "crt/kiln_errors.h");
  /** What a shared library needs beside the warnings and the host platform's own flags. */
  private static final List<String> LIBRARY_FLAGS = List.of("-O2", "-fPIC", "-shared");
  private static final int BUILD_SECONDS = 120;
  /**
   * Payloads (or what is left of one) shorter than this stay in Java, where the call into C and the
   * array pinning would cost more than the bytes (an empty call's packets are about 30 bytes).
   */
  static final int MIN_RUN = 256;
  /** The most bytes one call may consume or produce: the native results pack each count in 24 bits. */
  static final int MAX_SPAN = 1 << 23;

  private static final boolean AVAILABLE;
  private static final String STATUS;

  static {
    boolean ok = false;
    String status;
    if ("false".equalsIgnoreCase(System.getProperty("kiln.link.native", "true"))) {
      status = "Java (turned off by -Dkiln.link.native=false)";
    } else {
      try {
        Path lib = build(DeviceProgram.defaultCache().resolve("jni"));
        System.load(lib.toString());
        selfCheck();
        ok = true;
        status = "native (" + lib + ")";
      } catch (IOException | InterruptedException | RuntimeException | LinkageError e) {
        if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        status = "Java (the native helper is unavailable: " + e.getMessage() + ")";
      }
    }
    AVAILABLE = ok;
    STATUS = status;
  }

  private NativeLink() {}

  /** True when the library is loaded and agrees with the Java CRC. */
  static boolean available() { return AVAILABLE; }

  /** Which framing path the host uses, and why, for benchmarks and reports. */
  static String status() { return STATUS; }

  /**
   * Escapes {@code src[off, off+len)} into {@code out[outOff, outEnd)} as far as it fits (every FF
   * doubled) and returns {@code written << 40 | consumed << 16 | crc}, the CRC of the written bytes
   * continued from {@code crc}. Makes progress whenever {@code outEnd - outOff >= 2}. Ranges outside
   * the arrays throw IndexOutOfBoundsException before any native code runs.
   */
  static long escape(int crc, byte[] src, int off, int len, byte[] out, int outOff, int outEnd) {
    Objects.checkFromIndexSize(off, len, src.length);
    Objects.checkFromToIndex(outOff, outEnd, out.length);
    int end = outEnd - outOff > MAX_SPAN ? outOff + MAX_SPAN : outEnd;
    return escape0(crc, src, off, Math.min(len, MAX_SPAN), out, outOff, end);
  }

  /**
   * Decodes wire bytes {@code in[from, to)} into {@code dst[at, at+need)} while they are plain bytes
   * or complete FF FF pairs; returns {@code produced << 40 | consumed << 16 | crc}, the CRC of the
   * consumed wire bytes continued from {@code crc}. Stops at an FF not followed by an FF in the input.
   * Ranges outside the arrays throw IndexOutOfBoundsException before any native code runs.
   */
  static long unescape(int crc, byte[] in, int from, int to, byte[] dst, int at, int need) {
    Objects.checkFromToIndex(from, to, in.length);
    Objects.checkFromIndexSize(at, need, dst.length);
    return unescape0(crc, in, from, to - from > MAX_SPAN ? from + MAX_SPAN : to, dst, at, need);
  }

  /** The runtime's CRC-16 of {@code data[off, off+len)} continued from {@code crc}. */
  static int crc(int crc, byte[] data, int off, int len) {
    Objects.checkFromIndexSize(off, len, data.length);
    return crc0(crc, data, off, len);
  }

  // The C side trusts its offsets (it works on the pinned arrays): only the checked methods above call these.
  private static native long escape0(int crc, byte[] src, int off, int len, byte[] out, int outOff, int outEnd);

  private static native long unescape0(int crc, byte[] in, int from, int to, byte[] dst, int at, int need);

  private static native int crc0(int crc, byte[] data, int off, int len);

  /** Refuses a library whose CRC differs from the Java definition (a miscompiled or foreign build). */
  private static void selfCheck() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    if (crc(Crc16.INITIAL, check, 0, check.length) != 0x29B1) throw new IllegalStateException("CRC check value differs");
    byte[] data = new byte[4099];
    new Random(15).nextBytes(data);
    for (int len : new int[] {0, 1, 15, 63, 64, 65, 1000, 4099}) {
      if (crc(0x1234, data, 0, len) != Crc16.update(0x1234, data, 0, len)) {
        throw new IllegalStateException("CRC of " + len + " bytes differs from the Java CRC");
      }
    }
  }

  /** Compiles the library into {@code cache} (or finds it there) and returns its path. */
  static Path build(Path cache) throws IOException, InterruptedException {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) throw new IOException("built on Linux only, this is " + os);
    Path jdk = Path.of(System.getProperty("java.home"));
    Path include = jdk.resolve("include");
    if (!Files.isRegularFile(include.resolve("jni.h"))) {
      throw new IOException("no jni.h under " + include + " (a JRE without the JDK's headers)");
    }
    // the host platform's CRC build (platform.properties, as the device programs get it): sixteen
    // tables and, on x86-64, carry-less multiplication
    List<String> flags = new ArrayList<>(CWarnings.STRICT);
    flags.addAll(LIBRARY_FLAGS);
    flags.addAll(Platform.host().cflags());
    String cc = System.getenv("CC") == null || System.getenv("CC").isBlank() ? "gcc" : System.getenv("CC");
    MessageDigest key;
    try {
      key = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<String> texts = new ArrayList<>();
    for (String s : SOURCES) {
      try (InputStream in = NativeLink.class.getResourceAsStream(RESOURCES + s)) {
        if (in == null) throw new IOException("Kiln is missing its resource " + RESOURCES + s + " (broken install?)");
        texts.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    for (String part : List.of(cc, String.join(" ", flags), System.getProperty("os.arch", ""), jdk.toString())) {
      key.update(part.getBytes(StandardCharsets.UTF_8));
      key.update((byte) 0);
    }
    for (int i = 0; i < SOURCES.size(); i++) {
      key.update(SOURCES.get(i).getBytes(StandardCharsets.UTF_8));
      key.update((byte) 0);
      key.update(texts.get(i).getBytes(StandardCharsets.UTF_8));
      key.update((byte) 0);
    }
    String hash = HexFormat.of().formatHex(key.digest()).substring(0, 24);
    Path lib = cache.resolve("lib" + LIBRARY + "-" + hash + ".so");
    if (Files.isRegularFile(lib)) return ownedByMe(lib);
    Files.createDirectories(cache);
    Path staging = Files.createTempDirectory(cache, "." + hash + "-");
    try {
      for (int i = 0; i < SOURCES.size(); i++) {
        Path p = staging.resolve(SOURCES.get(i));
        Files.createDirectories(p.getParent());
        Files.writeString(p, texts.get(i), StandardCharsets.UTF_8);
      }
      Path out = staging.resolve("lib" + LIBRARY + ".so");
      List<String> cmd = new ArrayList<>(List.of(cc));
      cmd.addAll(flags);
      cmd.addAll(List.of("-I" + staging.resolve("crt"), "-isystem", include.toString(), "-isystem",
          include.resolve("linux").toString(), staging.resolve("jni/kiln_link_jni.c").toString(),
          staging.resolve("crt/kiln_framing.c").toString(), "-o", out.toString()));
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new IOException("cannot start " + cc + " (" + e.getMessage() + ")", e);
      }
      byte[] log = p.getInputStream().readAllBytes();
      if (!p.waitFor(BUILD_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(cc + " did not finish within " + BUILD_SECONDS + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + new String(log, StandardCharsets.UTF_8));
      }
      try {
        Files.move(out, lib, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(out, lib, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        if (!Files.isRegularFile(lib)) throw e; // another JVM built it first: use that one
      }
      return ownedByMe(lib);
    } finally {
      deleteTree(staging);
    }
  }

  /**
   * {@code lib}, if this user owns it and the folder it is in: the JVM loads it into itself, so one
   * another user could have put in a shared temporary folder is refused (the Java path runs).
   */
  private static Path ownedByMe(Path lib) throws IOException {
    java.nio.file.attribute.UserPrincipal me = lib.getFileSystem().getUserPrincipalLookupService()
        .lookupPrincipalByName(System.getProperty("user.name"));
    for (Path p : List.of(lib, lib.getParent())) {
      if (!Files.getOwner(p).equals(me)) {
        throw new IOException(p + " belongs to " + Files.getOwner(p).getName() + ", not to " + me.getName()
            + " (delete it, or set java.io.tmpdir to a folder of your own)");
      }
    }
    return lib;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
