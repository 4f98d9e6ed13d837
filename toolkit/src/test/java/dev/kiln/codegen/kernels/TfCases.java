package dev.kiln.codegen.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Single-op cases whose expected outputs come from TensorFlow 2.21's interpreter with
 * OpResolverType.BUILTIN_REF (made by a throwaway script: model flatbuffers built directly with the
 * chosen shapes, quantization and options, inputs random or exhaustive). Resources
 * {@code tf/<op>.json.gz} (gzip): a list of {op, note, options, inputs[], output} with tensors as
 * {shape, dtype, scale?, zero_point?, data = base64 of little-endian values}.
 */
final class TfCases {
  private TfCases() {}

  record Case(String name, Op op, List<byte[]> inputs, byte[] expected) {}

  static List<Case> load(String file) {
    try (InputStream raw = TfCases.class.getResourceAsStream("tf/" + file + ".json.gz")) {
      if (raw == null) throw new IOException("missing test resource tf/" + file + ".json.gz");
      JsonNode root = new ObjectMapper().readTree(new GZIPInputStream(raw));
      List<Case> cases = new ArrayList<>();
      int k = 0;
      for (JsonNode c : root) {
        OpType type = OpType.valueOf(c.get("op").asText());
        List<Tensor> ins = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        int i = 0;
        for (JsonNode t : c.get("inputs")) {
          ins.add(tensor("in" + i++, t));
          data.add(Base64.getDecoder().decode(t.get("data").asText()));
        }
        JsonNode o = c.get("output");
        Tensor out = tensor("out", o);
        Op op = new Op(0, type, ins, List.of(out), options(type, c.get("options")));
        String name = String.format("%s #%d %s %s", type, k++, c.get("note").asText(), describe(ins, out, c.get("options")));
        cases.add(new Case(name, op, data, Base64.getDecoder().decode(o.get("data").asText())));
      }
      return cases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String describe(List<Tensor> ins, Tensor out, JsonNode options) {
    StringBuilder sb = new StringBuilder();
    for (Tensor t : ins) sb.append(t).append("; ");
    return sb.append("-> ").append(out).append(' ').append(options).toString();
  }

  private static Tensor tensor(String name, JsonNode t) {
    int[] shape = new int[t.get("shape").size()];
    for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asInt();
    DType dtype = switch (t.get("dtype").asText()) {
      case "float32" -> DType.FLOAT32;
      case "int8" -> DType.INT8;
      case "uint8" -> DType.UINT8;
      default -> throw new IllegalArgumentException(t.get("dtype").asText());
    };
    Tensor.Builder b = Tensor.builder(name).dtype(dtype).shape(shape);
    if (t.has("scale")) b.quantization(Quantization.perTensor((float) t.get("scale").asDouble(), t.get("zero_point").asLong()));
    return b.build();
  }

  private static Options options(OpType type, JsonNode o) {
    return switch (type) {
      case ADD, SUB, MUL -> new Options.Elementwise(Activation.valueOf(o.path("activation").asText("NONE")));
      case SOFTMAX -> new Options.Softmax((float) o.path("beta").asDouble(1.0));
      case CONCATENATION -> new Options.Concat(o.get("axis").asInt(), Activation.NONE);
      default -> new Options.None();
    };
  }

  /** One dynamic test per case of {@code tf/<file>.json}: emit, compile, run, compare. */
  static Stream<DynamicTest> tests(String file) {
    return load(file).stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
  }

  static void check(Case c) {
    EltwiseHarness.Program p = EltwiseHarness.compile(c.op());
    byte[] actual = p.run(c.inputs().toArray(new byte[0][]));
    Tensor out = c.op().output();
    if (out.dtype() == DType.FLOAT32) {
      assertFloatsClose(EltwiseHarness.toFloats(c.expected()), EltwiseHarness.toFloats(actual), c.name());
    } else {
      for (int i = 0; i < actual.length; i++) {
        if (actual[i] != c.expected()[i]) {
          int bad = 0;
          for (int j = 0; j < actual.length; j++) if (actual[j] != c.expected()[j]) bad++;
          fail(c.name() + ": " + bad + " of " + actual.length + " outputs differ; first at " + i + ": expected "
              + c.expected()[i] + ", got " + actual[i]);
        }
      }
    }
  }

  /** The project's float tolerance: |a - b| <= 1e-5 * (|ref| + max|ref|); infinities and NaN must match exactly. */
  static void assertFloatsClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    float maxRef = 0;
    for (float v : expected) if (Float.isFinite(v)) maxRef = Math.max(maxRef, Math.abs(v));
    for (int i = 0; i < expected.length; i++) {
      float e = expected[i];
      float a = actual[i];
      if (Float.isNaN(e) || Float.isInfinite(e) || Float.isNaN(a) || Float.isInfinite(a)) {
        if (Float.compare(e, a) != 0 && !(Float.isNaN(e) && Float.isNaN(a))) fail(what + ": element " + i + " expected " + e + ", got " + a);
        continue;
      }
      double tol = 1e-5 * (Math.abs(e) + maxRef);
      if (Math.abs((double) e - a) > tol) fail(what + ": element " + i + " expected " + e + ", got " + a + " (tolerance " + tol + ")");
    }
  }
}
