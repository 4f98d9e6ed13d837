package dev.kiln.frontend.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.StreamSupport;

/** Assertions shared by the manifest-driven tests (shared models and op fixtures use one format). */
final class ManifestChecks {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ManifestChecks() {}

  static JsonNode manifest(Path model) throws IOException {
    return JSON.readTree(model.resolveSibling("manifest.json").toFile());
  }

  /** Manifest "inputs"/"outputs": name, tensor index, shape, dtype and per-tensor quantization, in order. */
  static void assertIo(JsonNode expected, List<Tensor> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      JsonNode e = expected.get(i);
      Tensor t = actual.get(i);
      assertEquals(e.get("name").asText(), t.name());
      assertEquals(e.get("tensor_index").asInt(), t.id());
      assertArrayEquals(ints(e.get("shape")), t.shape(), t.name());
      assertEquals(e.get("dtype").asText(), t.dtype().numpyName(), t.name());
      JsonNode q = e.get("quant");
      if (q == null || q.isNull()) {
        assertFalse(t.quantization().isQuantized(), t.name() + " should not be quantized");
      } else {
        assertEquals(Quantization.perTensor((float) q.get("scale").asDouble(), q.get("zero_point").asLong()), t.quantization(),
            t.name());
      }
      assertFalse(t.isConstant());
    }
  }

  static int[] ints(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
  }

  static long[] longs(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).mapToLong(JsonNode::asLong).toArray();
  }

  static float[] floats(JsonNode array) {
    double[] d = StreamSupport.stream(array.spliterator(), false).mapToDouble(JsonNode::asDouble).toArray();
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
    return f;
  }
}
