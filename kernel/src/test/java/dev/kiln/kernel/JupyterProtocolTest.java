package dev.kiln.kernel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel driven by a real Jupyter client: {@code src/test/python/protocol_check.py}
 * (jupyter_client and nbclient) starts it from a kernelspec, as Jupyter does, and checks every
 * message type; each of its checks is one test here. The kernel runs from this module's classes;
 * {@code -Dkiln.kernel.jar=kernel/target/kiln-kernel.jar} runs the same checks on the shaded jar.
 *
 * <p>Needs python3 with jupyter_client and nbclient ({@code kernel/install-kernelspec.sh} installs
 * them from the local wheel index when missing).
 */
class JupyterProtocolTest {
  private static final long SCRIPT_TIMEOUT_SECONDS = 150;

  @TempDir Path temp;

  @TestFactory
  List<DynamicTest> aRealJupyterClientGetsEveryReplyItExpects() throws Exception {
    Path base = Path.of(System.getProperty("kiln.kernel.basedir", "."));
    Path script = base.resolve("src/test/python/protocol_check.py");
    Path model = Path.of(System.getProperty("kiln.shared", "../../shared"), "models/digits_cnn_int8/digits_cnn_int8.tflite")
        .toAbsolutePath().normalize();
    TestKernelspec.requirePythonJupyter();
    TestKernelspec.write(temp.resolve("jupyter"), "kiln-test");

    Path report = temp.resolve("report.json");
    ProcessBuilder pb = new ProcessBuilder("python3", script.toAbsolutePath().toString(), "--kernel", "kiln-test",
        "--report", report.toString(), "--model", model.toString());
    pb.environment().put("JUPYTER_PATH", temp.resolve("jupyter").toString());
    pb.environment().put("JUPYTER_RUNTIME_DIR", temp.resolve("runtime").toString());
    pb.environment().put("PYTHONUNBUFFERED", "1");
    pb.directory(temp.toFile());
    pb.redirectErrorStream(true);
    Path log = temp.resolve("protocol_check.log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("protocol_check.py still running after " + SCRIPT_TIMEOUT_SECONDS + " s:\n" + tail(log));
    }
    if (!Files.exists(report)) fail("protocol_check.py wrote no report (exit " + p.exitValue() + "):\n" + tail(log));

    List<DynamicTest> tests = new ArrayList<>();
    String json = Files.readString(report, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("\\{\\s*\"name\": \"((?:[^\"\\\\]|\\\\.)*)\",\\s*\"ok\": (true|false),\\s*\"detail\": \"((?:[^\"\\\\]|\\\\.)*)\"")
        .matcher(json);
    while (m.find()) {
      String name = unescape(m.group(1));
      boolean ok = m.group(2).equals("true");
      String detail = unescape(m.group(3));
      tests.add(DynamicTest.dynamicTest(name, () -> {
        if (!ok) fail(detail + "\n--- script output ---\n" + tail(log));
      }));
    }
    if (tests.isEmpty()) fail("empty report:\n" + json + "\n" + tail(log));
    // The kernel's stderr is the script's (jupyter_client lets the kernel inherit it), as it is
    // jupyter console's and the server's: by default it carries no INFO lines.
    String output = Files.readString(log, StandardCharsets.UTF_8);
    tests.add(DynamicTest.dynamicTest("the kernel writes no INFO log lines to its stderr by default (jupyter console shows them)", () -> {
      assertFalse(output.contains("INFO: "), "INFO lines from the kernel:\n" + output.lines().filter(l -> l.contains("INFO: ")).limit(5)
          .collect(java.util.stream.Collectors.joining("\n")));
    }));
    return tests;
  }

  private static String unescape(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 == s.length()) {
        sb.append(c);
        continue;
      }
      char n = s.charAt(++i);
      switch (n) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'u' -> {
          sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> sb.append(n);
      }
    }
    return sb.toString();
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
