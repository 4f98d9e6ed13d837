package dev.kiln.project;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Flash and RAM of a device program, read from its ELF files (section headers and symbol tables, as
 * {@code size -A} and {@code nm -S} would): code split into the model (generated operators, kernels,
 * system library) and the runtime, read-only data split into weights (the model's constants),
 * operator parameters (the requantization tables and shapes beside each call) and the rest, then
 * initialised data, zeroed data (bss) and, inside it, the model's static arena and the runtime's own
 * state. The split comes from the program's object files (one per source), the totals from the
 * linked program, so what the C library and start-up code add shows as "other". The stack
 * high-water is a run-time figure the device measures (stack painting), known once a session asked.
 * Immutable.
 */
public record ProgramMemory(String program, int bits, long modelCode, long runtimeCode, long otherCode, long weights,
                            long operatorParameters, long metadata, long otherReadOnly, long data, long bss, long arena,
                            long runtimeState, OptionalLong stackHighWater) {

  /** All executable code. */
  public long code() { return modelCode + runtimeCode + otherCode; }

  /** All read-only data. */
  public long readOnly() { return weights + operatorParameters + metadata + otherReadOnly; }

  /** Flash: code, read-only data and the initial values of initialised data. */
  public long flash() { return code() + readOnly() + data; }

  /** Static RAM: initialised and zeroed data (the stack comes on top, see {@link #stackHighWater()}). */
  public long staticRam() { return data + bss; }

  /** The same figures with the stack high-water the device measured. */
  public ProgramMemory withStackHighWater(long bytes) {
    return new ProgramMemory(program, bits, modelCode, runtimeCode, otherCode, weights, operatorParameters, metadata,
        otherReadOnly, data, bss, arena, runtimeState, OptionalLong.of(bytes));
  }

  /**
   * Reads {@code program} (a device program) and the objects its {@code linkCommand} linked, whose
   * sources are {@code units} in the same order ({@code codegen/host/src/...} for the model,
   * {@code runtime/...} for the runtime). {@code prefix} names the model's symbols ({@code tvmgen_default}).
   */
  public static ProgramMemory read(Path program, List<String> linkCommand, List<String> units, String prefix)
      throws IOException {
    ElfFile elf = ElfFile.read(program);
    long code = 0, readOnly = 0, data = 0, bss = 0;
    for (ElfFile.Section s : elf.sections()) {
      if (!s.isAlloc()) continue;
      if (s.isCode()) code += s.size();
      else if (s.isBss()) bss += s.size();
      else if (s.isWritable()) data += s.size();
      else readOnly += s.size();
    }
    List<Path> objects = new ArrayList<>();
    for (String arg : linkCommand) if (arg.endsWith(".o")) objects.add(Path.of(arg));
    if (objects.size() != units.size()) {
      throw new IOException("the link command of " + program + " has " + objects.size() + " objects for " + units.size() + " sources");
    }
    // objects are compiled with one section per function and object (-ffunction-sections -fdata-sections) and linked
    // with --gc-sections: a section .text.NAME / .rodata.NAME counts only if NAME is still in the program
    java.util.Set<String> linked = new java.util.HashSet<>();
    for (ElfFile.Symbol sym : elf.symbols()) linked.add(sym.name());
    long modelCode = 0, runtimeCode = 0, params = 0, metadataRo = 0;
    for (int i = 0; i < objects.size(); i++) {
      Path o = objects.get(i);
      if (!Files.isRegularFile(o)) throw new IOException("object " + o + " of " + program + " is gone from the cache; rebuild the program");
      ElfFile obj = ElfFile.read(o);
      String unit = units.get(i);
      boolean model = unit.startsWith("codegen/");
      for (ElfFile.Section s : obj.sections()) {
        if (!s.isAlloc() || s.isBss() || collected(s.name(), linked)) continue;
        if (s.isCode()) {
          if (model) modelCode += s.size();
          else runtimeCode += s.size();
        } else if (!s.name().startsWith(".eh_frame")) {
          if (unit.endsWith("_lib1.c")) params += s.isWritable() ? 0 : s.size();
          // metadata with pointers lands in writable .data.rel.ro in a PIE host program: that part counts as data
          if (unit.endsWith("_lib2.c") && !s.isWritable()) metadataRo += s.size();
        }
      }
    }
    long weights = 0, arena = 0, runtimeState = 0;
    for (ElfFile.Symbol sym : elf.symbols()) {
      if (sym.type() != ElfFile.STT_OBJECT) continue;
      if (sym.name().startsWith(prefix + "_c_")) weights += sym.size();
      else if (sym.name().equals(prefix + "_arena") || sym.name().equals(prefix + "_scratch")) arena += sym.size();
      // the platform's one kiln_runtime; gcc names a function-local static "runtime.0"
      else if (!sym.global() && (sym.name().equals("runtime") || sym.name().matches("runtime\\.\\d+"))) runtimeState += sym.size();
    }
    long otherRo = Math.max(0, readOnly - weights - params - metadataRo);
    return new ProgramMemory(program.toString(), elf.bits(), modelCode, runtimeCode, Math.max(0, code - modelCode - runtimeCode),
        weights, params, metadataRo, otherRo, data, bss, arena, runtimeState, OptionalLong.empty());
  }

  /** Whether the linker dropped an object's per-function or per-object section (its symbol is not in the program). */
  private static boolean collected(String section, java.util.Set<String> linked) {
    for (String kind : List.of(".text.", ".rodata.", ".data.rel.ro.local.", ".data.rel.ro.", ".data.", ".sdata.", ".srodata.")) {
      if (section.startsWith(kind)) {
        String name = section.substring(kind.length());
        for (String placement : List.of("startup.", "unlikely.", "hot.", "exit.")) {
          if (name.startsWith(placement)) name = name.substring(placement.length());
        }
        return !name.isEmpty() && !name.startsWith("str1.") && !name.startsWith("cst") && !linked.contains(name);
      }
    }
    return false;
  }

  /** The sources of a {@link DeviceProgram} folder in link order (the build sorts them by path). */
  static List<String> units(Path directory) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(directory)) {
      s.filter(p -> p.toString().endsWith(".c")).forEach(p -> out.add(directory.relativize(p).toString().replace('\\', '/')));
    }
    out.sort(null);
    return out;
  }

  /** Rows of (part, bytes) in display order. */
  public List<String[]> rows() {
    List<String[]> r = new ArrayList<>();
    r.add(new String[] {"flash", n(flash())});
    r.add(new String[] {"  code: model (operators, kernels)", n(modelCode)});
    r.add(new String[] {"  code: runtime (RPC, executors)", n(runtimeCode)});
    r.add(new String[] {"  code: C library, start-up", n(otherCode)});
    r.add(new String[] {"  weights", n(weights)});
    r.add(new String[] {"  operator parameters", n(operatorParameters)});
    r.add(new String[] {"  metadata, function table (read-only)", n(metadata)});
    r.add(new String[] {"  other read-only", n(otherReadOnly)});
    r.add(new String[] {"  initialised data", n(data)});
    r.add(new String[] {"RAM (static)", n(staticRam())});
    r.add(new String[] {"  data", n(data)});
    r.add(new String[] {"  bss", n(bss)});
    r.add(new String[] {"    model arena (intermediate tensors)", n(arena)});
    r.add(new String[] {"    runtime state (buffers, device memory pool)", n(runtimeState)});
    r.add(new String[] {"stack high-water", stackHighWater.isPresent() ? n(stackHighWater.getAsLong()) : "not measured"});
    return r;
  }

  private static String n(long v) { return String.format(Locale.ROOT, "%,d", v); }

  /** One line: flash (code / weights / parameters) and RAM (arena, stack). */
  public String summary() {
    return String.format(Locale.ROOT, "flash %,d B (code %,d, weights %,d, parameters %,d), RAM %,d B static (arena %,d)%s",
        flash(), code(), weights, operatorParameters, staticRam(), arena,
        stackHighWater.isPresent() ? String.format(Locale.ROOT, " + stack %,d", stackHighWater.getAsLong()) : "");
  }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("memory of " + program + " (" + bits + "-bit ELF)\n");
    for (String[] r : rows()) sb.append(String.format(Locale.ROOT, "  %-48s %14s%n", r[0], r[1]));
    return sb.toString();
  }
}
