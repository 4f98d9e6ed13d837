package dev.kiln.codegen.kernels;

import dev.kiln.codegen.CodeWriter;
import dev.kiln.codegen.KernelContext;
import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Test support for the elementwise kernels: emits one op through its emitter with a minimal
 * {@link KernelContext}, compiles the result with the kernel library using real gcc (the strict
 * flags of the toolkit) into a program that reads its inputs on stdin and writes the output bytes
 * to stdout, and runs it. Programs are compiled once and can be run on many inputs.
 */
final class EltwiseHarness {
  /** With every kiln_eltwise.h variant a model can switch on, so ops of either form run on one library. */
  static final String CFLAGS = dev.kiln.project.CWarnings.strictText() + " -O2 -ffp-contract=off"
      + " -DKILN_SOFTMAX_EXP_RUNTIME_USED=1";
  private static final String[] LIBRARY = {"kiln_fixedpoint.h", "kiln_nn_util.h", "kiln_eltwise.h", "kiln_eltwise.c"};
  private static Path libDir;
  private static int counter;

  private EltwiseHarness() {}

  // ---- IR construction -------------------------------------------------------------------------

  static Tensor tensor(String name, DType dtype, int[] shape, float scale, int zeroPoint) {
    return Tensor.builder(name).dtype(dtype).shape(shape).quantization(Quantization.perTensor(scale, zeroPoint)).build();
  }

  static Tensor tensor(String name, DType dtype, int... shape) {
    return Tensor.builder(name).dtype(dtype).shape(shape).build();
  }

  static Op op(OpType type, Options options, List<Tensor> inputs, Tensor output) {
    return new Op(0, type, inputs, List.of(output), options);
  }

  static KernelEmitter emitter(OpType type) {
    return Kernels.emitter(type).orElseThrow(() -> new AssertionError("no emitter for " + type));
  }

  // ---- byte helpers ----------------------------------------------------------------------------

  static byte[] floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  static float[] toFloats(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[bytes.length / 4];
    for (int i = 0; i < v.length; i++) v[i] = b.getFloat();
    return v;
  }

  // ---- the program -----------------------------------------------------------------------------

  /** A compiled single-op program. */
  static final class Program {
    final Path exe;
    final List<Tensor> inputs; // the op's distinct non-constant inputs, in stdin order
    final Tensor output;
    final String source;

    Program(Path exe, List<Tensor> inputs, Tensor output, String source) {
      this.exe = exe;
      this.inputs = inputs;
      this.output = output;
      this.source = source;
    }

    /** Runs with one byte array per entry of {@link #inputs}; returns the output tensor's bytes. */
    byte[] run(byte[]... data) {
      if (data.length != inputs.size()) throw new IllegalArgumentException("expected " + inputs.size() + " inputs");
      ByteArrayOutputStream stdin = new ByteArrayOutputStream();
      for (int i = 0; i < data.length; i++) {
        if (data[i].length != inputs.get(i).byteSize()) {
          throw new IllegalArgumentException("input " + i + " has " + data[i].length + " bytes, expected " + inputs.get(i).byteSize());
        }
        stdin.writeBytes(data[i]);
      }
      byte[] out = exec(List.of(exe.toString()), stdin.toByteArray());
      if (out.length != output.byteSize()) {
        throw new AssertionError("program wrote " + out.length + " bytes, expected " + output.byteSize());
      }
      return out;
    }
  }

  /** Emits {@code op} and compiles it into a program. */
  static Program compile(Op op) {
    KernelEmitter e = emitter(op.type());
    e.check(op);
    Ctx ctx = new Ctx();
    for (Tensor t : op.inputs()) if (t != null) ctx.data(t);
    ctx.data(op.output());
    e.emit(op, ctx);
    List<Tensor> inputs = new ArrayList<>();
    for (Tensor t : op.inputs()) if (t != null && !t.isConstant() && !inputs.contains(t)) inputs.add(t);
    Tensor out = op.output();
    StringBuilder c = new StringBuilder();
    c.append("#include <stdio.h>\n#include <stdint.h>\n#include \"kiln_fixedpoint.h\"\n#include \"kiln_eltwise.h\"\n\n");
    for (Tensor t : op.inputs()) {
      if (t == null || !ctx.buffers.containsKey(t)) continue;
      c.append("static ").append(t.dtype().cType()).append(' ').append(ctx.buffers.get(t)).append('[')
          .append(Math.max(1, t.elements())).append(']');
      if (t.isConstant()) c.append(" = {").append(literal(t)).append('}');
      c.append(";\n");
    }
    if (!op.inputs().contains(out)) c.append("static ").append(out.dtype().cType()).append(' ').append(ctx.data(out)).append('[').append(Math.max(1, out.elements())).append("];\n");
    int scratch = e.scratchBytes(op);
    if (scratch > 0) c.append("static int64_t scratch_mem[").append((scratch + 7) / 8).append("];\n");
    c.append(ctx.decls);
    c.append("\nint main(void) {\n");
    for (Tensor t : inputs) {
      c.append("  if (fread(").append(ctx.data(t)).append(", 1, ").append(t.byteSize()).append(", stdin) != ")
          .append(t.byteSize()).append(") return 2;\n");
    }
    c.append(indent(ctx.body.toString()));
    c.append("  if (fwrite(").append(ctx.data(out)).append(", 1, ").append(out.byteSize()).append(", stdout) != ")
        .append(out.byteSize()).append(") return 3;\n  return 0;\n}\n");
    String source = c.toString();
    try {
      Path lib = library();
      Path dir = Files.createTempDirectory(lib.getParent(), "prog");
      Path src = dir.resolve("main.c");
      Files.writeString(src, source);
      Path exe = dir.resolve("main");
      List<String> cmd = new ArrayList<>();
      cmd.add("gcc");
      cmd.addAll(List.of(CFLAGS.split(" ")));
      cmd.addAll(List.of("-I", lib.toString(), "-o", exe.toString(), src.toString(), lib.resolve("kiln_eltwise.o").toString(), "-lm"));
      exec(cmd, new byte[0]);
      return new Program(exe, inputs, out, source);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  private static String indent(String body) {
    StringBuilder sb = new StringBuilder();
    for (String l : body.split("\n")) if (!l.isEmpty()) sb.append("  ").append(l).append('\n');
    return sb.toString();
  }

  private static String literal(Tensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    List<String> v = new ArrayList<>();
    for (long i = 0; i < t.elements(); i++) {
      switch (t.dtype()) {
        case FLOAT32 -> v.add(dev.kiln.codegen.CLiterals.f32(b.getFloat()));
        case INT8 -> v.add(Integer.toString(b.get()));
        case UINT8, BOOL -> v.add(Integer.toString(b.get() & 0xff));
        case INT16 -> v.add(Integer.toString(b.getShort()));
        case INT32 -> v.add(dev.kiln.codegen.CLiterals.i32(b.getInt()));
        case INT64 -> v.add(b.getLong() + "LL");
      }
    }
    return v.isEmpty() ? "0" : String.join(", ", v);
  }

  /** The kernel library copied from the classpath and compiled once per JVM. */
  static synchronized Path library() throws IOException {
    if (libDir != null) return libDir;
    Path root = Files.createTempDirectory("kiln-eltwise-test");
    Path dir = Files.createDirectories(root.resolve("lib"));
    for (String f : LIBRARY) {
      try (InputStream in = EltwiseHarness.class.getResourceAsStream("/dev/kiln/runtime/kernels/" + f)) {
        if (in == null) throw new IOException("kernel library file " + f + " is not on the classpath");
        Files.write(dir.resolve(f), in.readAllBytes());
      }
    }
    List<String> cmd = new ArrayList<>();
    cmd.add("gcc");
    cmd.addAll(List.of(CFLAGS.split(" ")));
    cmd.addAll(List.of("-c", "-o", dir.resolve("kiln_eltwise.o").toString(), dir.resolve("kiln_eltwise.c").toString()));
    exec(cmd, new byte[0]);
    libDir = dir;
    return dir;
  }

  static byte[] exec(List<String> cmd, byte[] stdin) {
    try {
      Process p = new ProcessBuilder(cmd).start();
      Thread writer = new Thread(() -> {
        try (OutputStream os = p.getOutputStream()) {
          os.write(stdin);
        } catch (IOException ignored) {
          // the process exited early; its status tells why
        }
      });
      writer.start();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread errReader = new Thread(() -> {
        try (InputStream es = p.getErrorStream()) {
          es.transferTo(err);
        } catch (IOException ignored) {
          // nothing to report
        }
      });
      errReader.start();
      byte[] out;
      try (InputStream is = p.getInputStream()) {
        out = is.readAllBytes();
      }
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timeout: " + cmd);
      }
      writer.join();
      errReader.join();
      if (p.exitValue() != 0) {
        throw new AssertionError("command failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
            + err.toString(StandardCharsets.UTF_8));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A KernelContext that declares a static buffer per tensor and collects file-scope constants. */
  static final class Ctx implements KernelContext {
    final Map<Tensor, String> buffers = new LinkedHashMap<>();
    final StringBuilder decls = new StringBuilder();
    final CodeWriter body = new CodeWriter();
    private final Set<String> names = new HashSet<>();

    @Override public String data(Tensor t) {
      return buffers.computeIfAbsent(t, k -> newName("t_" + k.cName()));
    }

    @Override public String tableI32(String hint, int[] values) {
      String n = newName(hint);
      StringBuilder sb = new StringBuilder();
      for (int v : values) sb.append(sb.length() == 0 ? "" : ", ").append(dev.kiln.codegen.CLiterals.i32(v));
      decls.append("static const int32_t ").append(n).append("[] = {").append(sb).append("};\n");
      return n;
    }

    @Override public String tableI8(String hint, byte[] values) {
      String n = newName(hint);
      StringBuilder sb = new StringBuilder();
      for (byte v : values) sb.append(sb.length() == 0 ? "" : ", ").append(v);
      decls.append("static const int8_t ").append(n).append("[] = {").append(sb).append("};\n");
      return n;
    }

    @Override public String tableF32(String hint, float[] values) {
      String n = newName(hint);
      StringBuilder sb = new StringBuilder();
      for (float v : values) sb.append(sb.length() == 0 ? "" : ", ").append(dev.kiln.codegen.CLiterals.f32(v));
      decls.append("static const float ").append(n).append("[] = {").append(sb).append("};\n");
      return n;
    }

    @Override public String constant(String structType, String hint, String initializer) {
      String n = newName(hint);
      decls.append("static const ").append(structType).append(' ').append(n).append(" = ").append(initializer).append(";\n");
      return n;
    }

    @Override public String newName(String hint) {
      String base = dev.kiln.ir.CNames.sanitize(hint);
      String n = base;
      for (int k = 1; !names.add(n); k++) n = base + "_" + k;
      return n;
    }

    @Override public String scratch() { return "(void *)scratch_mem"; }

    @Override public CodeWriter body() { return body; }
  }

  static synchronized int nextId() { return counter++; }
}
