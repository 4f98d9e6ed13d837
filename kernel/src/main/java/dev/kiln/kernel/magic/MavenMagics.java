package dev.kiln.kernel.magic;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.eclipse.aether.resolution.DependencyResolutionException;

/**
 * {@code %maven g:a:v...} adds artifacts and their runtime dependencies from Maven Central (and
 * repositories added with {@code %mavenRepo ID URL}). Artifacts the kernel already carries (the
 * toolkit, Jackson, picocli...) are not added a second time: the kernel's copy would win anyway,
 * so the magic says which version is in use instead.
 */
public final class MavenMagics {
  /** Libraries the kernel relocates out of the way: users may add their own versions freely. */
  private static final Set<String> RELOCATED_GROUPS = Set.of("com.google.code.gson", "org.zeromq", "eu.neilalexander",
      "org.apache.maven", "org.apache.maven.resolver", "org.apache.httpcomponents", "commons-codec",
      "org.codehaus.plexus", "org.ow2.asm", "org.slf4j");

  private final MavenResolver resolver;
  private final Consumer<Path> addToClasspath;
  private final Map<String, String> provided;
  private final List<Path> added = new ArrayList<>();

  public MavenMagics(MavenResolver resolver, Consumer<Path> addToClasspath, Map<String, String> provided) {
    this.resolver = resolver;
    this.addToClasspath = addToClasspath;
    this.provided = provided;
  }

  public void register(Magics magics) {
    magics.line("maven", "GROUP:ARTIFACT:VERSION... : add artifacts and their runtime dependencies from Maven repositories",
        args -> add(args, System.out));
    magics.line("mavenRepo", "ID URL : also resolve from this Maven repository", args -> {
      if (args.size() != 2) throw new IllegalArgumentException("usage: %mavenRepo ID URL, e.g. %mavenRepo google https://maven.google.com/");
      resolver.addRepository(args.get(0), args.get(1));
      System.out.println("repositories: " + resolver.repositories());
    });
  }

  public List<Path> add(List<String> coordinates, PrintStream out) throws DependencyResolutionException {
    if (coordinates.isEmpty()) {
      if (added.isEmpty()) out.println("nothing added with %maven yet; usage: %maven com.example:lib:1.0");
      added.forEach(out::println);
      return List.of();
    }
    for (String c : coordinates) {
      if (c.split(":").length < 3) {
        throw new IllegalArgumentException(c + ": expected GROUP:ARTIFACT:VERSION, e.g. org.apache.commons:commons-math3:3.6.1");
      }
    }
    List<Path> newJars = new ArrayList<>();
    for (MavenResolver.Resolved r : resolver.resolve(coordinates)) {
      String key = r.groupId() + ":" + r.artifactId();
      String kernelVersion = provided.get(key);
      if (kernelVersion != null) {
        out.println("kept     " + key + ":" + kernelVersion + " (on the kernel's class path; " + r.version() + " not added)");
        continue;
      }
      if (added.contains(r.file())) continue;
      addToClasspath.accept(r.file());
      added.add(r.file());
      newJars.add(r.file());
      out.println("added    " + r.coordinates());
    }
    return newJars;
  }

  /**
   * {@code group:artifact} to version for every Maven artifact packed into the jars on
   * {@code classPath} (read from their {@code META-INF/maven/.../pom.properties}), relocated
   * libraries excepted.
   */
  public static Map<String, String> providedArtifacts(String classPath) {
    Map<String, String> found = new TreeMap<>();
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      if (!entry.endsWith(".jar") || !Files.isRegularFile(Path.of(entry))) continue;
      try (JarFile jar = new JarFile(entry)) {
        Enumeration<JarEntry> entries = jar.entries();
        while (entries.hasMoreElements()) {
          JarEntry e = entries.nextElement();
          String name = e.getName();
          if (!name.startsWith("META-INF/maven/") || !name.endsWith("/pom.properties")) continue;
          Properties p = new Properties();
          try (InputStream in = jar.getInputStream(e)) {
            p.load(in);
          }
          String g = p.getProperty("groupId");
          String a = p.getProperty("artifactId");
          String v = p.getProperty("version");
          if (g == null || a == null || v == null || RELOCATED_GROUPS.contains(g)) continue;
          found.put(g + ":" + a, v);
        }
      } catch (IOException ignored) {
        // an unreadable jar provides nothing we can name
      }
    }
    return found;
  }
}
