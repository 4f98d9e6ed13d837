package dev.kiln.kernel.magic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Magics alone: their effects are callbacks, so no kernel is needed. */
class MagicsTest {
  @TempDir Path temp;
  private final List<Path> added = new ArrayList<>();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final PrintStream print = new PrintStream(out, true);

  @Test
  void jarsExpandsGlobsAndAddsEachJarOnce() throws Exception {
    Files.createDirectories(temp.resolve("lib/sub"));
    Files.writeString(temp.resolve("lib/a.jar"), "");
    Files.writeString(temp.resolve("lib/b.jar"), "");
    Files.writeString(temp.resolve("lib/notes.txt"), "");
    Files.writeString(temp.resolve("lib/sub/c.jar"), "");
    ClasspathMagics magics = new ClasspathMagics(added::add, temp);
    magics.add(List.of("lib/*.jar"), true, print);
    assertEquals(List.of(temp.resolve("lib/a.jar"), temp.resolve("lib/b.jar")), added);
    magics.add(List.of("lib/**.jar"), true, print);
    assertEquals(List.of(temp.resolve("lib/a.jar"), temp.resolve("lib/b.jar"), temp.resolve("lib/sub/c.jar")), added);
    assertTrue(out.toString().contains("class path + " + temp.resolve("lib/sub/c.jar")), out.toString());
  }

  @Test
  void aPathThatMatchesNothingFailsAndAddsNothing() throws Exception {
    Files.writeString(temp.resolve("real.jar"), "");
    ClasspathMagics magics = new ClasspathMagics(added::add, temp);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> magics.add(List.of("real.jar", "missing/*.jar"), false, print));
    assertEquals("missing/*.jar: no jar or folder matches (looked in " + temp.resolve("missing") + ")", e.getMessage());
    assertEquals(List.of(), added);
  }

  @Test
  void argumentsSplitOnBlanksWithQuotes() {
    assertEquals(List.of("a", "b c", "d\"e"), dev.kiln.kernel.eval.Cell.splitArgs("a \"b c\"  d\\\"e"));
  }

  @Test
  void mavenRejectsCoordinatesWithoutAVersion() {
    MavenMagics magics = new MavenMagics(new MavenResolver(temp), added::add, Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> magics.add(List.of("org.example:lib"), print));
    assertEquals("org.example:lib: expected GROUP:ARTIFACT:VERSION, e.g. org.apache.commons:commons-math3:3.6.1", e.getMessage());
  }

  @Test
  void mavenResolvesFromTheLocalRepositoryAndKeepsProvidedArtifacts() throws Exception {
    // apiguardian comes with JUnit, so the local repository has it and no network is needed.
    Path repo = Path.of(System.getProperty("kiln.m2", System.getProperty("user.home") + "/.m2/repository"));
    assumeTrue(Files.isDirectory(repo.resolve("org/apiguardian/apiguardian-api/1.1.2")), "apiguardian 1.1.2 not in " + repo);
    MavenMagics magics = new MavenMagics(new MavenResolver(repo), added::add, Map.of());
    magics.add(List.of("org.apiguardian:apiguardian-api:1.1.2"), print);
    assertEquals(List.of(repo.resolve("org/apiguardian/apiguardian-api/1.1.2/apiguardian-api-1.1.2.jar")), added);
    assertEquals("added    org.apiguardian:apiguardian-api:1.1.2\n", out.toString());

    out.reset();
    MavenMagics kernelHasIt = new MavenMagics(new MavenResolver(repo), added::add,
        Map.of("org.apiguardian:apiguardian-api", "1.1.0"));
    assertEquals(List.of(), kernelHasIt.add(List.of("org.apiguardian:apiguardian-api:1.1.2"), print));
    assertEquals("kept     org.apiguardian:apiguardian-api:1.1.0 (on the kernel's class path; 1.1.2 not added)\n", out.toString());
  }

  @Test
  void providedArtifactsAreReadFromPomPropertiesInJars() {
    String classPath = System.getProperty("java.class.path");
    Map<String, String> provided = MavenMagics.providedArtifacts(classPath);
    // In a reactor build the toolkit is a class folder (no pom.properties); as a jar it must be found.
    if (classPath.contains("kiln-toolkit-")) assertTrue(provided.containsKey("dev.kiln:kiln-toolkit"), provided.toString());
    assertTrue(provided.containsKey("com.fasterxml.jackson.core:jackson-databind"), provided.toString());
    assertTrue(provided.keySet().stream().noneMatch(k -> k.startsWith("com.google.code.gson:")), "gson is relocated");
  }

  @Test
  void lsmagicListsEveryMagicWithItsUsage() throws Exception {
    Magics magics = new Magics();
    TimeMagic.register(magics);
    new ClasspathMagics(added::add, temp).register(magics);
    assertEquals(List.of("%%time", "%classpath", "%jars", "%load", "%lsmagic", "%time"), magics.allNames());
    assertTrue(magics.usage().contains("%time          JAVA: run the rest of the line"), magics.usage());
    assertTrue(magics.usage().contains("%%time         : run the cell and print its wall time"), magics.usage());
  }
}
