package dev.kiln.project;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flash and RAM of a device program from its ELF: the Java reader's figures against binutils' own
 * ({@code nm -S}, {@code size -A}) on the host device program, the same reader on 32-bit Cortex-M and
 * RISC-V objects, and the stack high-water the host device measures by painting its stack.
 */
class ProgramMemoryTest {
  static Model model;
  static Tensor image;

  @BeforeAll static void load() {
    var seed = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(seed.modelFile());
    image = Tensor.load(seed.input(0, 0));
  }

  static String exec(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + cmd);
    assertEquals(0, p.exitValue(), cmd + "\n" + out);
    return out;
  }

  /** Sum of nm -S sizes of the symbols whose name starts with {@code prefix} (or equals it when exact). */
  static long nmSizes(String nm, Path file, String prefix, boolean exact) throws Exception {
    long sum = 0;
    for (String line : exec(List.of(nm, "-S", file.toString())).split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 4 && (exact ? f[3].equals(prefix) : f[3].startsWith(prefix))) sum += Long.parseLong(f[1], 16);
    }
    return sum;
  }

  @Test void theHostProgramsFiguresMatchBinutils() throws Exception {
    for (Executor ex : List.of(Executor.aot(), Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true))) {
      Build build = model.build(ex);
      ProgramMemory m = build.deviceMemory();
      Path exe = build.deviceProgram().executable();
      assertEquals(64, m.bits());
      assertEquals(nmSizes("nm", exe, "tvmgen_default_c_", false), m.weights(), ex.toString());
      // the constants the compiled graph keeps (a RESHAPE's shape tensor, for one, is not a device weight)
      long constants = build.compiled().graph().weightBytes();
      assertTrue(m.weights() >= constants && m.weights() <= constants + 64L * model.graph().tensors().size(),
          "weights " + m.weights() + " vs the compiled graph's " + constants);
      long arena = nmSizes("nm", exe, "tvmgen_default_arena", true) + nmSizes("nm", exe, "tvmgen_default_scratch", true);
      assertEquals(arena, m.arena(), ex.toString());
      if (ex.kind() == Executor.Kind.AOT) assertTrue(m.arena() >= build.arenaBytes(), m.toString());
      assertEquals(nmSizes("nm", exe, "runtime.0", true) + nmSizes("nm", exe, "runtime", true), m.runtimeState());
      assertTrue(m.runtimeState() > 2_000_000, "the host runtime holds a 2 MiB device memory pool: " + m);
      assertTrue(m.operatorParameters() > 0 && m.modelCode() > 0 && m.runtimeCode() > 0, m.toString());
      // totals: every allocated section as size -A lists it
      long alloc = 0;
      for (String line : exec(List.of("size", "-A", exe.toString())).split("\n")) {
        String[] f = line.trim().split("\\s+");
        if (f.length == 3 && f[0].startsWith(".") && Long.parseLong(f[2]) != 0) alloc += Long.parseLong(f[1]);
      }
      assertEquals(alloc, m.flash() + m.bss(), m.toString());
      assertTrue(m.toString().contains("weights") && m.summary().startsWith("flash "), m.summary());
    }
  }

  @Test void thirtyTwoBitObjectsOfCortexMAndRiscVReadTheSame(@TempDir Path tmp) throws Exception {
    Build aot = model.build(Executor.aot());
    Path lib = aot.exportTo(tmp.resolve("lib"));
    Path src = lib.resolve("codegen/host/src/default_lib0.c");
    List<String[]> toolchains = new ArrayList<>();
    toolchains.add(new String[] {"arm-none-eabi-gcc", "arm-none-eabi-nm", "40", "-mcpu=cortex-m4", "-mthumb"});
    toolchains.add(new String[] {"riscv64-unknown-elf-gcc", "riscv64-unknown-elf-nm", "243", "-march=rv32imac", "-mabi=ilp32", "--specs=picolibc.specs"});
    int ran = 0;
    for (String[] t : toolchains) {
      if (!onPath(t[0])) continue;
      Path obj = tmp.resolve(t[0] + ".o");
      List<String> cmd = new ArrayList<>(List.of(t[0], "-std=c99", "-O2"));
      cmd.addAll(List.of(t).subList(3, t.length));
      cmd.addAll(List.of("-I", lib.resolve("codegen/host/include").toString(), "-c", src.toString(), "-o", obj.toString()));
      exec(cmd);
      ElfFile elf = ElfFile.read(obj);
      assertEquals(32, elf.bits(), t[0]);
      assertEquals(Integer.parseInt(t[2]), elf.machine(), t[0]);
      long weights = 0;
      for (ElfFile.Symbol s : elf.symbols()) if (s.name().startsWith("tvmgen_default_c_")) weights += s.size();
      assertEquals(nmSizes(t[1], obj, "tvmgen_default_c_", false), weights, t[0]);
      assertTrue(weights >= aot.compiled().graph().weightBytes(), t[0] + ": " + weights);
      ran++;
    }
    boolean ci = System.getenv("CI") != null;
    if (ci) assertEquals(2, ran, "CI installs arm-none-eabi-gcc and riscv64-unknown-elf-gcc");
    assumeTrue(ran > 0, "no cross compiler installed");
  }

  @Test void theHostDeviceMeasuresItsStackHighWaterAndItGrowsWithARun() {
    Build build = model.build(Executor.aot());
    try (DeviceSession dev = build.flash(Device.host())) {
      long before = dev.stackHighWater().orElseThrow();
      dev.executor().setInput(0, image).run();
      ProgramMemory m = dev.memory();
      long after = m.stackHighWater().orElseThrow();
      assertTrue(before > 0 && after >= before && after < 256 * 1024, before + " then " + after);
      assertTrue(m.toString().contains("stack high-water"), m.toString());
    }
  }

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) if (Files.isExecutable(Path.of(dir, tool))) return true;
    return false;
  }
}
