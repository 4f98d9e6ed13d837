package dev.kiln.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A kernelspec for tests, under a JUPYTER_PATH of their own: the kernel runs from this module's
 * classes and class path (or from {@code -Dkiln.kernel.jar}), never from whatever "kiln" kernelspec
 * the machine has installed, which may be another checkout's.
 */
public final class TestKernelspec {
  private TestKernelspec() {}

  /** Writes {@code <jupyterDir>/kernels/<name>/kernel.json}; returns {@code jupyterDir} for JUPYTER_PATH. */
  public static Path write(Path jupyterDir, String name) throws IOException {
    String jar = System.getProperty("kiln.kernel.jar", "");
    List<String> launch = new ArrayList<>();
    if (!jar.isBlank()) {
      assertTrue(Files.isRegularFile(Path.of(jar)), "kernel jar not found: " + jar);
      launch.add("-jar");
      launch.add(Path.of(jar).toAbsolutePath().toString());
    } else {
      Path classpathFile = Path.of(System.getProperty("kiln.kernel.classpathFile", "target/kernel-classpath.txt"));
      String classes = System.getProperty("kiln.kernel.classes", "target/classes");
      launch.add("-cp");
      launch.add(classes + java.io.File.pathSeparator + Files.readString(classpathFile).strip());
      launch.add("dev.kiln.kernel.Main");
    }
    Path dir = jupyterDir.resolve("kernels").resolve(name);
    Files.createDirectories(dir);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String repo = System.getProperty("kiln.m2", Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
    StringBuilder argv = new StringBuilder(quote(java) + ", \"-XX:+UseSerialGC\", \"-XX:TieredStopAtLevel=1\", "
        + quote("-Dmaven.repo.local=" + repo));
    for (String a : launch) argv.append(", ").append(quote(a));
    Files.writeString(dir.resolve("kernel.json"), "{\"argv\": [" + argv + ", \"{connection_file}\"], "
        + "\"display_name\": \"Kiln (test)\", \"language\": \"java\", \"interrupt_mode\": \"message\"}\n");
    return jupyterDir;
  }

  /** Fails, saying how to install them, unless python3 has jupyter_client, nbclient and nbformat. */
  public static void requirePythonJupyter(String... extraModules) throws IOException, InterruptedException {
    String modules = String.join(", ", List.of("jupyter_client", "nbclient", "nbformat")) + (extraModules.length > 0 ? ", " + String.join(", ", extraModules) : "");
    Process p = new ProcessBuilder("python3", "-c", "import " + modules).redirectErrorStream(true).start();
    boolean done = p.waitFor(30, TimeUnit.SECONDS);
    if (!done || p.exitValue() != 0) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      fail("python3 with " + modules + " is needed (kernel/install-kernelspec.sh installs them from the local wheel index):\n" + out);
    }
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
