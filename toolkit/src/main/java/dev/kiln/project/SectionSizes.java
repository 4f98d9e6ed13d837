package dev.kiln.project;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Flash and RAM of a generated library as the compiler lays it out: every source compiled with
 * {@code -O2 -c}, then {@code size} in Berkeley format (text includes read-only data).
 */
public record SectionSizes(long text, long data, long bss) {

  /** Flash: code plus constants (text + initialised data). */
  public long flash() { return text + data; }

  /** Static RAM: initialised data plus zeroed data (the arena lives in bss). */
  public long ram() { return data + bss; }

  public static SectionSizes measure(Path library, Path work) throws IOException, InterruptedException {
    Files.createDirectories(work);
    List<String> objects = new ArrayList<>();
    try (Stream<Path> s = Files.list(library.resolve("codegen/host/src"))) {
      for (Path src : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".c")).sorted()::iterator) {
        Path obj = work.resolve(src.getFileName().toString().replace(".c", ".o"));
        HostProgram.exec(List.of(HostProgram.compiler(), "-std=c99", "-O2", "-c", "-I", library.resolve("codegen/host/include").toString(),
            src.toString(), "-o", obj.toString()), work, 300);
        objects.add(obj.toString());
      }
    }
    List<String> cmd = new ArrayList<>(List.of("size", "-B", "-t"));
    cmd.addAll(objects);
    String out = HostProgram.exec(cmd, work, 60);
    for (String line : out.split("\n")) {
      if (line.contains("(TOTALS)")) {
        String[] f = line.trim().split("\\s+");
        return new SectionSizes(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]));
      }
    }
    throw new IOException("unexpected output of size: " + out);
  }
}
