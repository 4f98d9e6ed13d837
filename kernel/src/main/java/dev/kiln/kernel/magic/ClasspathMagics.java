package dev.kiln.kernel.magic;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code %classpath PATH...} (jars and class folders) and {@code %jars GLOB...} (jars only):
 * add to the class path of later snippets. Globs use {@code *}, {@code ?} and {@code **}; relative
 * paths are resolved against the kernel's working folder (the notebook's). Without arguments,
 * each lists what was added so far.
 */
public final class ClasspathMagics {
  private final Consumer<Path> addToClasspath;
  private final Path workingDir;
  private final List<Path> added = new ArrayList<>();

  public ClasspathMagics(Consumer<Path> addToClasspath, Path workingDir) {
    this.addToClasspath = addToClasspath;
    this.workingDir = workingDir;
  }

  public void register(Magics magics) {
    magics.line("classpath", "PATH... : add jars or class folders (globs allowed) to the class path",
        args -> add(args, false, System.out));
    magics.line("jars", "GLOB... : add jars (globs allowed) to the class path", args -> add(args, true, System.out));
  }

  public List<Path> added() { return List.copyOf(added); }

  /** Adds every match of every argument; fails, adding nothing, if an argument matches nothing. */
  public List<Path> add(List<String> args, boolean jarsOnly, PrintStream out) throws IOException {
    if (args.isEmpty()) {
      if (added.isEmpty()) out.println("nothing added to the class path yet");
      added.forEach(p -> out.println(p));
      return List.of();
    }
    List<Path> found = new ArrayList<>();
    for (String arg : args) {
      List<Path> matches = expand(arg);
      if (jarsOnly) matches.removeIf(p -> !p.getFileName().toString().endsWith(".jar"));
      if (matches.isEmpty()) {
        throw new IllegalArgumentException(arg + ": no " + (jarsOnly ? "jar" : "jar or folder") + " matches (looked in "
            + workingDir.resolve(arg).getParent() + ")");
      }
      found.addAll(matches);
    }
    for (Path p : found) {
      if (added.contains(p)) continue;
      addToClasspath.accept(p);
      added.add(p);
      out.println("class path + " + p);
    }
    return found;
  }

  List<Path> expand(String arg) throws IOException {
    String pattern = arg.startsWith("~/") ? System.getProperty("user.home") + arg.substring(1) : arg;
    if (!(pattern.contains("*") || pattern.contains("?") || pattern.contains("["))) {
      Path p = workingDir.resolve(pattern).normalize();
      List<Path> one = new ArrayList<>();
      if (Files.exists(p)) one.add(p);
      return one;
    }
    Path absolute = workingDir.resolve(pattern).normalize();
    String abs = absolute.toString().replace('\\', '/');
    int firstGlob = indexOfGlob(abs);
    int baseEnd = abs.lastIndexOf('/', firstGlob);
    Path base = Path.of(baseEnd <= 0 ? "/" : abs.substring(0, baseEnd));
    String tail = abs.substring(baseEnd + 1);
    int depth = tail.contains("**") ? Integer.MAX_VALUE : tail.split("/").length;
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + abs);
    List<Path> matches = new ArrayList<>();
    if (!Files.isDirectory(base)) return matches;
    try (Stream<Path> walk = Files.walk(base, depth)) {
      walk.filter(matcher::matches).sorted().forEach(matches::add);
    }
    return matches;
  }

  private static int indexOfGlob(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '*' || c == '?' || c == '[') return i;
    }
    return s.length();
  }
}
