package dev.kiln.kernel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

class ScratchLabTest {
  @TestFactory List<DynamicTest> scratch() throws Exception {
    Path temp = Path.of("/tmp/disp-lab");
    java.nio.file.Files.createDirectories(temp);
    long t0 = System.nanoTime();
    Map<String, Object> a = LabChecks.audit("/usr/bin/chromium", Path.of("/tmp/disp-out"), List.of("quickstart.ipynb", "seed-graph-vs-aot.ipynb", "int8-vs-float.ipynb"), temp,
        Map.of("JUPYTER_PATH", "/tmp/disp-jup"));
    System.out.println("AUDIT " + (System.nanoTime() - t0) / 1e9 + " s");
    a.forEach((k, v) -> System.out.println("AUDIT " + k + " " + (v instanceof LabChecks.Audit au ? au.report().toPrettyString() : v)));
    return LabChecks.tests(a);
  }
}
