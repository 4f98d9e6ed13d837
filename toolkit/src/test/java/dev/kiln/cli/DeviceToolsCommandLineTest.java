package dev.kiln.cli;

import static dev.kiln.cli.CommandLineTest.kiln;
import static dev.kiln.cli.CommandLineTest.seed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Device;
import dev.kiln.api.SerialPortInfo;
import dev.kiln.cli.CommandLineTest.Result;
import dev.kiln.testing.ReferenceModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiln run --profile}, {@code kiln compile --memory} and {@code kiln ports} as a shell calls them. */
class DeviceToolsCommandLineTest {
  @Test
  void runWithProfilePrintsEveryOperatorTimedOnTheDevice(@TempDir Path tmp) {
    var seedCase = ReferenceModels.shared("tflite", "digits_cnn_int8");
    for (String executor : new String[] {"graph", "aot"}) {
      Result r = kiln("run", seed().toString(), "--executor", executor, "--profile", "--input",
          "predict_images:0=" + seedCase.input(0, 0), "-o", tmp.resolve(executor).toString());
      assertEquals(0, r.status(), r.err());
      assertTrue(r.out().contains("per-operator time"), r.out());
      List<String> rows = r.out().lines().filter(l -> l.matches("\\s+\\d+  [A-Z_0-9]+ .*%")).toList();
      assertEquals(7, rows.size(), "one row per operator of the compiled digits model:\n" + r.out());
      assertTrue(rows.get(0).contains("CONV_2D") && rows.get(6).contains("SOFTMAX"), r.out());
      assertTrue(r.out().contains("us per run (") && r.out().contains("on host (local process)"), r.out());
    }
  }

  @Test
  void benchOnAQemuBoardPrintsTheRawUartEchoRateBesideTheLinkFigures() {
    boolean tools = java.util.stream.Stream.of("qemu-system-arm", "arm-none-eabi-gcc").allMatch(t -> java.util.Arrays.stream(
        System.getenv().getOrDefault("PATH", "").split(":")).anyMatch(d -> java.nio.file.Files.isExecutable(Path.of(d, t))));
    org.junit.jupiter.api.Assumptions.assumeTrue(tools, "qemu-system-arm or arm-none-eabi-gcc is not installed");
    Result r = kiln("bench", "--device", "qemu:mps2-an386", seed().toString());
    assertEquals(0, r.status(), r.err());
    var row = java.util.regex.Pattern.compile("digits_cnn_int8 .* ([\\d.]+) +([\\d.]+)\\n").matcher(r.out());
    var echo = java.util.regex.Pattern.compile("raw UART echo on qemu:mps2-an386 [^:]*: ([\\d.]+) KiB/s").matcher(r.out());
    assertTrue(row.find() && echo.find(), r.out());
    double up = Double.parseDouble(row.group(1));
    double raw = Double.parseDouble(echo.group(1));
    // a figure, not a speed goal (the pty's rate varies 11-28 KiB/s up with the machine's load): the 16 KiB came back intact
    assertTrue(raw > 0 && up > 0, "up " + up + " KiB/s, raw echo " + raw + " KiB/s\n" + r.out());
  }

  /** The Cortex-M0 table: a model that fits gets its figures and the issue-12 start beside them, one that does not a line. */
  @Test
  void benchOnTheMicrobitMeasuresTheModelsThatFitAndSaysWhatTheOthersNeed() {
    boolean tools = java.util.stream.Stream.of("qemu-system-arm", "arm-none-eabi-gcc").allMatch(t -> java.util.Arrays.stream(
        System.getenv().getOrDefault("PATH", "").split(":")).anyMatch(d -> java.nio.file.Files.isExecutable(Path.of(d, t))));
    org.junit.jupiter.api.Assumptions.assumeTrue(tools, "qemu-system-arm or arm-none-eabi-gcc is not installed");
    Path kws = ReferenceModels.shared("tflite", "mlperf_kws_int8").modelFile();
    Result r = kiln("bench", "--device", "qemu:microbit", seed().toString(), kws.toString());
    assertEquals(0, r.status(), r.err());
    // the AoT row: instructions, the figure at issue 12's start and their ratio, then code, weights, params, arena, stack
    var row = java.util.regex.Pattern.compile("\\ndigits_cnn_int8 +([\\d,]+) +- +- +539,174 +([\\d.]+) +[\\d,]+ +10,000 ").matcher(r.out());
    assertTrue(row.find(), r.out());
    long instructions = Long.parseLong(row.group(1).replace(",", ""));
    assertEquals(String.format(java.util.Locale.ROOT, "%.2f", instructions / 539_174.0), row.group(2), r.out());
    assertTrue(r.out().matches("(?s).*\\nmlperf_kws_int8 +does not fit qemu-microbit: needs \\d+ KiB of RAM \\(of 16 KiB, stack "
        + "included\\)\\n.*"), r.out());
    assertTrue(r.out().contains("up/down: - (link figures: DevAllocData"), r.out());
  }

  @Test
  void compileWithMemoryPrintsFlashAndRamFromTheElf(@TempDir Path tmp) {
    Result r = kiln("compile", seed().toString(), "--executor", "aot", "--interface-api", "packed", "--memory", "-o",
        tmp.resolve("o").toString());
    assertEquals(0, r.status(), r.err());
    for (String part : new String[] {"flash", "weights", "operator parameters", "model arena", "RAM (static)", "64-bit ELF"}) {
      assertTrue(r.out().contains(part), part + " in\n" + r.out());
    }
  }

  @Test
  void portsPrintsOneLinePerPortOrSaysThereAreNone() {
    Result r = kiln("ports");
    assertEquals(0, r.status(), r.err());
    List<SerialPortInfo> ports = Device.ports();
    if (ports.isEmpty()) {
      assertEquals("no serial ports found (plug a board in; pseudo-terminals are not listed, open them by path)\n", r.out());
    } else {
      assertEquals(ports.size(), r.out().lines().count(), r.out());
      for (SerialPortInfo p : ports) assertTrue(r.out().contains(p.path() + "  " + p.description()), r.out());
    }
  }

  @Test
  void aSerialDeviceThatIsNotThereIsOneSentence(@TempDir Path tmp) {
    var seedCase = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Result r = kiln("run", seed().toString(), "--device", "serial:/dev/kiln-no-such-port@9600", "--input",
        "0=" + seedCase.input(0, 0), "-o", tmp.resolve("o").toString());
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: could not open a session with serial /dev/kiln-no-such-port @9600"), r.err());
  }
}
