package dev.kiln.project;

import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.GeneratedFile;
import dev.kiln.codegen.GraphJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one builder of device programs: the generated system library and kernel library ({@link
 * DeviceModelWriter}), the device runtime ({@code runtime/crt/*.c}), the executors ({@code
 * runtime/executors/*.c}) and a {@link Platform}'s folders, compiled and linked with the platform's
 * compiler. For {@link Platform#host()} the result is a POSIX process speaking microTVM's protocol on
 * stdin/stdout; for a microcontroller it is an ELF firmware (checked against the board's flash and
 * RAM: a program that does not fit is refused here, with the sizes), run under QEMU or flashed.
 *
 * <p>Builds are cached by content under a cache folder: every translation unit is compiled once per
 * (its text, the headers it includes, the flags), so the runtime, the executors and the kernels are
 * compiled once for all models and a model's constants once for all its executors; a program whose
 * files and flags were all built before is reused as is. A build keeps its sources, the exact gcc
 * commands ({@code build.txt}) and the binary in {@code programs/<hash>/}. Safe for concurrent
 * builds: results are moved into place atomically. The cache keeps the {@value #KEEP_PROGRAMS} most
 * recently used programs and {@value #KEEP_OBJECTS} objects.
 */
public final class DeviceProgram {
  /** Warnings every file of a device program passes cleanly. */
  public static final List<String> FLAGS = withOptimization(CWarnings.STRICT);

  private static List<String> withOptimization(List<String> warnings) {
    List<String> f = new ArrayList<>(warnings);
    f.add(1, "-O2");
    // one section per function and object, so the link (-Wl,--gc-sections) drops every kernel the model does not call
    f.add(2, "-ffunction-sections");
    f.add(3, "-fdata-sections");
    return List.copyOf(f);
  }
  static final String RUNTIME = "/dev/kiln/runtime/";
  private static final String EXECUTABLE = "kiln-device";
  private static final String FIRMWARE = "kiln-device.elf";
  /** The cache keeps the most recently used programs and objects, dropping the oldest beyond these counts. */
  static final int KEEP_PROGRAMS = 200;
  static final int KEEP_OBJECTS = 2000;
  private static final Pattern INCLUDE = Pattern.compile("^\\s*#\\s*include\\s*\"([^\"]+)\"", Pattern.MULTILINE);

  /**
   * Sizes compiled into the device runtime: the largest framed message (KILN_MAX_PACKET_BYTES; a
   * graph JSON travels in one packet) and the device memory the executors and the host allocate
   * from (KILN_ARENA_BYTES). Values come in a few steps so that programs share runtime objects.
   */
  public record Sizes(int packetBytes, long arenaBytes) {
    static final int[] PACKET_STEPS = {2048, 16 << 10, 64 << 10, 256 << 10, 1 << 20};
    static final long[] ARENA_STEPS = {2L << 20, 8L << 20, 32L << 20, 128L << 20, 512L << 20};

    public Sizes {
      if (packetBytes < 256) throw new IllegalArgumentException("packetBytes < 256: " + packetBytes);
      if (arenaBytes < 1024 || arenaBytes > 0xFFFF_0000L) {
        throw new IllegalArgumentException("arenaBytes out of 1 KiB..4 GiB: " + arenaBytes);
      }
    }

    /**
     * Enough for {@code writer}'s model: a packet holding the graph JSON (microTVM's 2048 when it
     * fits), memory for the storage pools (graph) or the input and output buffers (AoT), plus as much
     * again for arrays the host allocates, plus the executor's tables.
     */
    public static Sizes of(DeviceModelWriter writer) {
      return of(writer, Platform.host());
    }

    /**
     * For a microcontroller the packet is the board's (microTVM's 2048: a graph JSON that does not
     * fit is linked into the firmware instead) and the device memory is what the model needs plus
     * 1 KiB, rounded to 1 KiB, so that small boards keep their RAM (at least the platform's
     * min_device_memory_bytes, room for arrays the host allocates).
     */
    public static Sizes of(DeviceModelWriter writer, Platform platform) {
      if (platform.isMicrocontroller()) {
        long json = writer.graphJson().map(g -> (long) g.text().getBytes(StandardCharsets.UTF_8).length).orElse(0L);
        long need = 2 * writer.ioBytes() + writer.graphJson().map(GraphJson::totalPoolBytes).orElse(0L) + 2 * json + 1024;
        return new Sizes(platform.packetBytes(), Math.max(platform.minDeviceMemoryBytes(), (need + 1023) / 1024 * 1024));
      }
      long ioBytes = writer.ioBytes();
      long json = writer.graphJson().map(g -> (long) g.text().getBytes(StandardCharsets.UTF_8).length).orElse(0L);
      long packetNeed = json == 0 ? 0 : json + 1024;
      long memoryNeed = (256L << 10) + 2 * ioBytes + writer.graphJson().map(GraphJson::totalPoolBytes).orElse(0L) + 4 * json;
      int packet = -1;
      for (int p : PACKET_STEPS) if (packet < 0 && p >= packetNeed) packet = p;
      if (packet < 0) throw new IllegalArgumentException("the graph JSON (" + json + " bytes) does not fit the largest packet");
      long arena = -1;
      for (long a : ARENA_STEPS) if (arena < 0 && a >= memoryNeed) arena = a;
      if (arena < 0) throw new IllegalArgumentException("the model needs " + memoryNeed + " bytes of device memory");
      return new Sizes(packet, arena);
    }

    List<String> defines() {
      return List.of("-DKILN_MAX_PACKET_BYTES=" + packetBytes, "-DKILN_ARENA_BYTES=" + arenaBytes + "u");
    }
  }

  private final Path executable;
  private final Path directory;
  private final List<List<String>> commands;
  private final String hash;
  private final boolean reused;
  private final Duration buildTime;
  private final Sizes sizes;
  private final Platform platform;
  private final boolean graphJsonLinked;

  private DeviceProgram(Path directory, List<List<String>> commands, String hash, boolean reused, Duration buildTime,
                        Sizes sizes, Platform platform, boolean graphJsonLinked) {
    this.directory = directory;
    this.graphJsonLinked = graphJsonLinked;
    this.platform = platform;
    this.executable = directory.resolve(platform.isHost() ? EXECUTABLE : FIRMWARE);
    this.commands = commands;
    this.hash = hash;
    this.reused = reused;
    this.buildTime = buildTime;
    this.sizes = sizes;
  }

  /** The default cache folder: {@code <java.io.tmpdir>/kiln-device-cache}. */
  public static Path defaultCache() {
    return Path.of(System.getProperty("java.io.tmpdir"), "kiln-device-cache-" + System.getProperty("user.name", "user"));
  }

  /** Builds (or reuses) the program of {@code writer}'s model in the default cache. */
  public static DeviceProgram build(DeviceModelWriter writer) throws IOException, InterruptedException {
    return build(writer, defaultCache());
  }

  /** Builds (or reuses) the program of {@code writer}'s model in {@code cache}. */
  public static DeviceProgram build(DeviceModelWriter writer, Path cache) throws IOException, InterruptedException {
    return build(writer.files(), Sizes.of(writer), cache);
  }

  /** Builds (or reuses) the program of {@code writer}'s model for {@code platform} in the default cache. */
  public static DeviceProgram build(DeviceModelWriter writer, Platform platform) throws IOException, InterruptedException {
    return build(writer, platform, defaultCache());
  }

  /**
   * Builds (or reuses) the program of {@code writer}'s model for {@code platform} in {@code cache}.
   * A graph JSON that does not fit one packet of the platform (microTVM's 2 KiB on boards) is linked
   * into the program; the host then creates the executor with an empty JSON ({@link #graphJsonLinked()}).
   */
  public static DeviceProgram build(DeviceModelWriter writer, Platform platform, Path cache)
      throws IOException, InterruptedException {
    return build(writer, platform, List.of(), cache);
  }

  /** As {@link #build(DeviceModelWriter, Platform, Path)} with extra -D defines (e.g. KILN_QEMU_ICOUNT_SHIFT=7). */
  public static DeviceProgram build(DeviceModelWriter writer, Platform platform, List<String> defines, Path cache)
      throws IOException, InterruptedException {
    Sizes sizes = Sizes.of(writer, platform);
    List<GeneratedFile> files = new ArrayList<>(writer.files());
    String json = writer.graphJson().map(GraphJson::text).orElse("");
    if (linksGraphJson(json, sizes.packetBytes())) files.add(linkedGraph(json));
    return build(files, sizes, platform, defines, cache);
  }

  /** Bytes of a tvm.graph_executor.create request besides the JSON (RPC header, the other arguments), with margin. */
  static final int CREATE_OVERHEAD = 128;

  /**
   * The rule both the builder and the host apply: a graph JSON is linked into the device program
   * when it and the create call's other bytes exceed one packet of the device.
   */
  public static boolean linksGraphJson(String json, int packetBytes) {
    return !json.isEmpty() && json.getBytes(StandardCharsets.UTF_8).length + CREATE_OVERHEAD > packetBytes;
  }

  /** The definition of kiln_linked_graph_json when no graph is linked (the host sends it). */
  public static GeneratedFile noLinkedGraph() {
    return new GeneratedFile(LINKED_GRAPH, "/* Generated by Kiln: no graph JSON is linked; the host sends it. */\n"
        + LINKED_GRAPH_DECLARATION + "const char kiln_linked_graph_json[] = \"\";\n");
  }
  private static final String LINKED_GRAPH = "src/kiln_linked_graph.c";
  /** kiln_executors.h's declaration, repeated so the file compiles with the model's include folder alone (MLF). */
  private static final String LINKED_GRAPH_DECLARATION = "\nextern const char kiln_linked_graph_json[];\n\n";

  /** The definition of kiln_linked_graph_json (runtime/executors/kiln_executors.h): bytes, as C99 limits string literals to 4095. */
  static GeneratedFile linkedGraph(String json) {
    StringBuilder c = new StringBuilder("/* Generated by Kiln: the graph JSON, linked because it does not fit one packet. */\n"
        + LINKED_GRAPH_DECLARATION + "const char kiln_linked_graph_json[] = {");
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i++) {
      c.append(i % 24 == 0 ? "\n  " : " ").append(b[i] & 0xFF).append(',');
    }
    c.append("\n  0};\n");
    return new GeneratedFile(LINKED_GRAPH, c.toString());
  }

  /** True when the graph JSON is linked into this program (it did not fit one packet). */
  public boolean graphJsonLinked() { return graphJsonLinked; }

  /** As {@link #build(List, Sizes, Platform, List, Path)} for the host platform. */
  public static DeviceProgram build(List<GeneratedFile> generated, Sizes sizes, Path cache)
      throws IOException, InterruptedException {
    return build(generated, sizes, Platform.host(), List.of(), cache);
  }

  /**
   * Builds (or reuses) a program from generated files (paths relative to {@code codegen/host}:
   * {@code include/...}, {@code src/...}; one of them defines {@code kiln_system_lib()}).
   */
  public static DeviceProgram build(List<GeneratedFile> generated, Sizes sizes, Platform platform, List<String> defines,
                                    Path cache) throws IOException, InterruptedException {
    return build(generated, sizes, platform, defines, cache, List.of());
  }

  /**
   * A host program as {@link #build(List, Sizes, Path)}, with {@code extraFlags} added to every compile
   * and the link (e.g. {@code -fsanitize=address,undefined}); they are part of the cache key.
   */
  public static DeviceProgram build(List<GeneratedFile> generated, Sizes sizes, Path cache, List<String> extraFlags)
      throws IOException, InterruptedException {
    return build(generated, sizes, Platform.host(), List.of(), cache, extraFlags);
  }

  /** The builder itself: {@code extraFlags} go to every compile and the link. */
  public static DeviceProgram build(List<GeneratedFile> generated, Sizes sizes, Platform platform, List<String> defines,
                                    Path cache, List<String> extraFlags) throws IOException, InterruptedException {
    long start = System.nanoTime();
    Map<String, String> files = new TreeMap<>();
    for (GeneratedFile f : generated) files.put("codegen/host/" + f.path(), f.text());
    boolean linked = files.containsKey("codegen/host/" + LINKED_GRAPH);
    if (!linked) files.put("codegen/host/" + noLinkedGraph().path(), noLinkedGraph().text());
    for (String dir : List.of("crt", "executors")) {
      for (String name : listResources(RUNTIME + dir + "/")) {
        if (name.equals("kiln_syslib_empty.c") || !(name.endsWith(".c") || name.endsWith(".h"))) continue;
        files.put("runtime/" + dir + "/" + name, resource(RUNTIME + dir + "/" + name));
      }
    }
    if (generated.stream().noneMatch(f -> f.path().endsWith(".c"))) {
      files.put("runtime/crt/kiln_syslib_empty.c", resource(RUNTIME + "crt/kiln_syslib_empty.c"));
    }
    List<String> platformDirs = new ArrayList<>();
    for (String dir : platform.sources()) {
      platformDirs.add("runtime/platform/" + dir);
      for (String name : listResources(RUNTIME + "platform/" + dir + "/")) {
        if (name.endsWith(".c") || name.endsWith(".h") || name.endsWith(".ld")) {
          files.put("runtime/platform/" + dir + "/" + name, resource(RUNTIME + "platform/" + dir + "/" + name));
        }
      }
    }
    String script = platform.linkerScript().isEmpty() ? null : "runtime/platform/" + platform.linkerScript();
    if (script != null) files.put(script, resource(RUNTIME + "platform/" + platform.linkerScript()));
    List<String> flags = new ArrayList<>(FLAGS);
    flags.addAll(platform.cflags());
    // the MCU main paints three quarters of the stack the board reserves, for stackHighWater()
    if (!platform.isHost() && platform.stackBytes() > 0) flags.add("-DKILN_MCU_STACK_PAINT_BYTES=" + platform.stackBytes() * 3 / 4);
    flags.addAll(extraFlags);
    flags.addAll(sizes.defines());
    for (String d : defines) flags.add("-D" + d);
    String compiler = platform.isHost() ? HostProgram.compiler() : platform.compiler();
    String output = platform.isHost() ? EXECUTABLE : FIRMWARE;

    MessageDigest all = sha256();
    update(all, compiler);
    update(all, platform.toString());
    for (String f : platform.ldflags()) update(all, f);
    for (String f : platform.libs()) update(all, f);
    for (String f : flags) update(all, f);
    files.forEach((k, v) -> {
      update(all, k);
      update(all, v);
    });
    String hash = HexFormat.of().formatHex(all.digest()).substring(0, 24);
    Path programs = cache.resolve("programs");
    Path dir = programs.resolve(hash);
    if (Files.isRegularFile(dir.resolve(output))) {
      touch(dir);
      List<List<String>> commands = readCommands(dir.resolve("build.txt"));
      return new DeviceProgram(dir, commands, hash, true, Duration.ofNanos(System.nanoTime() - start), sizes, platform, linked);
    }
    Files.createDirectories(programs);
    Path objects = cache.resolve("objects");
    Files.createDirectories(objects);
    Path staging = Files.createTempDirectory(programs, "." + hash + "-");
    try {
      for (Map.Entry<String, String> e : files.entrySet()) {
        Path p = staging.resolve(e.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
      }
      List<String> includeDirs = new ArrayList<>(List.of("codegen/host/include", "runtime/crt", "runtime/executors"));
      includeDirs.addAll(platformDirs);
      List<String> units = new ArrayList<>();
      for (String path : files.keySet()) if (path.endsWith(".c")) units.add(path);
      List<List<String>> commands = Collections.synchronizedList(new ArrayList<>());
      List<Path> objectFiles = compileAll(compiler, flags, includeDirs, units, files, staging, objects, commands);
      Path exe = staging.resolve(output);
      List<String> link = new ArrayList<>(List.of(compiler));
      link.addAll(platform.cflags());
      link.addAll(platform.ldflags());
      for (String d : platformDirs) link.add("-L" + staging.resolve(d));
      if (script != null) link.addAll(List.of("-T", staging.resolve(script).toString()));
      for (Path o : objectFiles) link.add(o.toString());
      link.addAll(extraFlags);
      link.addAll(platform.libs());
      if (!platform.ldflags().contains("-Wl,--gc-sections")) link.add("-Wl,--gc-sections");
      link.addAll(List.of("-o", exe.toString()));
      try {
        HostProgram.exec(link, staging, 300);
      } catch (IOException e) {
        if (platform.isMicrocontroller() && String.valueOf(e.getMessage()).contains("overflowed by")) {
          // the linker only says "region overflowed": link once more keeping the output, to report every size
          List<String> keep = new ArrayList<>(link);
          keep.set(keep.size() - 1, exe + ".too-large");
          keep.add(keep.size() - 2, "-Wl,--noinhibit-exec");
          HostProgram.exec(keep, staging, 300);
          FirmwareSize.measure(Path.of(exe + ".too-large"), platform).requireFits();
        }
        throw e;
      }
      if (platform.isMicrocontroller()) FirmwareSize.measure(exe, platform).requireFits();
      List<List<String>> ordered = new ArrayList<>(commands);
      ordered.sort((a, b) -> String.join(" ", a).compareTo(String.join(" ", b)));
      ordered.add(link);
      StringBuilder log = new StringBuilder();
      for (List<String> c : ordered) log.append(String.join(" ", c)).append('\n');
      Files.writeString(staging.resolve("build.txt"), log.toString());
      try {
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, dir);
      } catch (IOException e) {
        if (!Files.isRegularFile(dir.resolve(output))) throw e; // another build finished first: use it
        deleteTree(staging);
      }
      prune(programs, KEEP_PROGRAMS);
      prune(objects, KEEP_OBJECTS);
      return new DeviceProgram(dir, readCommands(dir.resolve("build.txt")), hash, false,
          Duration.ofNanos(System.nanoTime() - start), sizes, platform, linked);
    } catch (IOException | InterruptedException | RuntimeException e) {
      deleteTree(staging);
      throw e;
    }
  }

  /**
   * Objects of {@code units} (keys of {@code files}, whose texts are also written under {@code root})
   * from the default cache's objects, shared with device programs and pruned like them.
   */
  static List<Path> cachedObjects(String compiler, List<String> flags, List<String> includeDirs, List<String> units,
                                  Map<String, String> files, Path root) throws IOException, InterruptedException {
    Path objects = Files.createDirectories(defaultCache().resolve("objects"));
    List<Path> out = compileAll(compiler, flags, includeDirs, units, files, root, objects,
        Collections.synchronizedList(new ArrayList<>()));
    prune(objects, KEEP_OBJECTS);
    return out;
  }

  /** Compiles each unit to an object in the cache (keyed by its text, its headers and the flags), two at a time. */
  private static List<Path> compileAll(String compiler, List<String> flags, List<String> includeDirs, List<String> units,
                                       Map<String, String> files, Path staging, Path objects,
                                       List<List<String>> commands) throws IOException, InterruptedException {
    int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "kiln-gcc");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Path>> jobs = new ArrayList<>();
      for (String unit : units) {
        MessageDigest key = sha256();
        update(key, compiler);
        for (String f : flags) update(key, f);
        update(key, files.get(unit));
        for (String h : headersOf(unit, files, includeDirs)) {
          update(key, h);
          update(key, files.get(h));
        }
        Path object = objects.resolve(HexFormat.of().formatHex(key.digest()).substring(0, 32) + ".o");
        jobs.add(pool.submit(() -> {
          if (Files.isRegularFile(object)) {
            touch(object);
            return object;
          }
          Path tmp = Files.createTempFile(objects, ".obj-", ".o");
          List<String> cmd = new ArrayList<>(List.of(compiler));
          cmd.addAll(flags);
          for (String d : includeDirs) cmd.add("-I" + staging.resolve(d));
          cmd.addAll(List.of("-c", staging.resolve(unit).toString(), "-o", tmp.toString()));
          try {
            HostProgram.exec(cmd, staging, 300);
            commands.add(cmd);
            Files.move(tmp, object, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } finally {
            Files.deleteIfExists(tmp);
          }
          return object;
        }));
      }
      List<Path> out = new ArrayList<>();
      for (Future<Path> f : jobs) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          if (c instanceof IOException io) throw new IOException("compiling the device program failed: " + io.getMessage(), io);
          if (c instanceof InterruptedException ie) throw ie;
          if (c instanceof RuntimeException re) throw re;
          throw new IOException(c);
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Quoted includes of a file, transitively, resolved in the include folders (system headers are ignored). */
  private static Set<String> headersOf(String unit, Map<String, String> files, List<String> includeDirs) {
    Set<String> found = new LinkedHashSet<>();
    List<String> todo = new ArrayList<>(List.of(unit));
    while (!todo.isEmpty()) {
      String f = todo.remove(todo.size() - 1);
      Matcher m = INCLUDE.matcher(files.get(f));
      while (m.find()) {
        String name = m.group(1);
        List<String> candidates = new ArrayList<>();
        int slash = f.lastIndexOf('/');
        candidates.add(f.substring(0, slash + 1) + name);
        for (String d : includeDirs) candidates.add(d + "/" + name);
        for (String c : candidates) {
          if (files.containsKey(c)) {
            if (found.add(c)) todo.add(c);
            break;
          }
        }
      }
    }
    return new java.util.TreeSet<>(found);
  }

  private static List<List<String>> readCommands(Path buildTxt) throws IOException {
    List<List<String>> out = new ArrayList<>();
    if (!Files.exists(buildTxt)) return out;
    for (String line : Files.readAllLines(buildTxt)) if (!line.isBlank()) out.add(List.of(line.split(" ")));
    return out;
  }

  /** The program (host: run it with no arguments, stdin/stdout are the link) or the firmware ELF. */
  public Path executable() { return executable; }

  public Platform platform() { return platform; }

  /** Flash and RAM of a firmware (from its ELF); for the host program, its sections as the linker laid them out. */
  public FirmwareSize size() throws IOException, InterruptedException { return FirmwareSize.measure(executable, platform); }

  /** The folder with the sources ({@code codegen/host}, {@code runtime}), {@code build.txt} and the program. */
  public Path directory() { return directory; }

  /** The gcc commands of the build (compiles, then the link), as first run. */
  public List<List<String>> commands() { return commands; }

  /** Content hash of the sources, flags and compiler: the program's folder name. */
  public String hash() { return hash; }

  /** True if the program came from the cache without compiling anything. */
  public boolean reused() { return reused; }

  /** Wall time of this build call (tiny when reused). */
  public Duration buildTime() { return buildTime; }

  public Sizes sizes() { return sizes; }

  /**
   * Flash and RAM of this program from its ELF and object files; {@code prefix} names the model's
   * symbols ({@code tvmgen_default}).
   */
  public ProgramMemory memory(String prefix) throws IOException {
    if (commands.isEmpty()) throw new IOException(directory + "/build.txt is missing: the link command is unknown");
    return ProgramMemory.read(executable, commands.get(commands.size() - 1), ProgramMemory.units(directory), prefix);
  }

  @Override public String toString() {
    return "DeviceProgram(" + platform.name() + ", " + executable + (graphJsonLinked ? ", graph JSON linked into the program" : "") + (reused ? ", reused" : ", built in " + buildTime.toMillis() + " ms") + ")";
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void update(MessageDigest d, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    d.update(java.nio.ByteBuffer.allocate(8).putLong(b.length).array());
    d.update(b);
  }

  static String resource(String path) throws IOException {
    try (InputStream in = DeviceProgram.class.getResourceAsStream(path)) {
      if (in == null) throw new IOException("Kiln is missing its resource " + path + " (broken install?)");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** File names directly inside a classpath folder, from a directory or a jar. */
  static List<String> listResources(String folder) throws IOException {
    URL url = DeviceProgram.class.getResource(folder);
    if (url == null) throw new IOException("Kiln is missing its resource folder " + folder + " (broken install?)");
    try {
      URI uri = url.toURI();
      if (uri.getScheme().equals("jar")) {
        FileSystem fs;
        try {
          fs = FileSystems.newFileSystem(uri, Map.of());
        } catch (FileSystemAlreadyExistsException e) {
          fs = FileSystems.getFileSystem(uri);
        }
        return names(fs.getPath(folder));
      }
      return names(Path.of(uri));
    } catch (URISyntaxException e) {
      throw new IOException("bad resource URL " + url, e);
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void touch(Path p) {
    try {
      Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      // only affects which entries are pruned first
    }
  }

  /**
   * Deletes the least recently used entries of a cache folder beyond {@code keep}; leftover hidden
   * staging entries go once they are a day old. Never fails a build.
   */
  private static void prune(Path folder, int keep) {
    List<Path> entries = new ArrayList<>();
    long dayAgo = System.currentTimeMillis() - 86_400_000L;
    try (Stream<Path> s = Files.list(folder)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (!p.getFileName().toString().startsWith(".")) {
          entries.add(p);
        } else if (Files.getLastModifiedTime(p).toMillis() < dayAgo) {
          deleteTree(p);
        }
      }
    } catch (IOException e) {
      return;
    }
    if (entries.size() <= keep) return;
    // times read once: other processes sharing the cache touch entries while we sort, and a sort whose
    // keys change under it fails ("Comparison method violates its general contract")
    java.util.Map<Path, Long> modified = new java.util.HashMap<>();
    for (Path p : entries) {
      try {
        modified.put(p, Files.getLastModifiedTime(p).toMillis());
      } catch (IOException e) {
        modified.put(p, 0L);
      }
    }
    entries.sort(java.util.Comparator.comparingLong(modified::get));
    for (Path p : entries.subList(0, entries.size() - keep)) deleteTree(p);
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(q -> {
        try {
          Files.deleteIfExists(q);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // best effort: a leftover staging folder is hidden and harmless
    }
  }
}
