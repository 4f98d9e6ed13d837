package dev.kiln.hardening.fuzz;

import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.codegen.ModelWriter;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompileException;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Compiler;
import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Graph;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a mutated model file may do, shared by the Jazzer targets: be read, compiled and generated
 * as C (both writers), or be refused with one of Kiln's own exceptions, the ones {@code Kiln.load}
 * and {@code Model.build} turn into a KilnException for the user. Anything else (a
 * NullPointerException, an ArithmeticException, an OutOfMemoryError, a hang) is a finding. Counts
 * what each input gave and prints it when the fuzzer's JVM exits.
 */
final class ModelFuzzing {
  interface Reader {
    Graph read(byte[] data) throws ModelFormatException;
  }

  static final AtomicLong INPUTS = new AtomicLong();
  static final AtomicLong REFUSED_BY_READER = new AtomicLong();
  static final AtomicLong REFUSED_BY_COMPILER = new AtomicLong();
  static final AtomicLong GENERATED = new AtomicLong();

  private ModelFuzzing() {}

  static void summaryAtExit(String format) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.printf(
        "kiln-fuzz %s: %d mutants: %d refused by the reader, %d refused by the compiler, %d compiled to C%n", format,
        INPUTS.get(), REFUSED_BY_READER.get(), REFUSED_BY_COMPILER.get(), GENERATED.get())));
  }

  static void exercise(Reader reader, byte[] data) {
    INPUTS.incrementAndGet();
    Graph g;
    try {
      g = reader.read(data);
    } catch (ModelFormatException e) { // includes UnsupportedOperatorException
      if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a refusal without a message", e);
      REFUSED_BY_READER.incrementAndGet();
      return;
    }
    CompiledModel compiled;
    try {
      compiled = Compiler.compile(g, Kernels.support());
      new ModelWriter(compiled, "default").files();
      new DeviceModelWriter(compiled, ExecutorConfig.graph("default")).files();
    } catch (CompileException | UnsupportedOperationException | IllegalArgumentException | IllegalStateException e) {
      // what Build.of reports to the user as a KilnException naming the model
      if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a refusal without a message", e);
      REFUSED_BY_COMPILER.incrementAndGet();
      return;
    }
    GENERATED.incrementAndGet();
  }
}
