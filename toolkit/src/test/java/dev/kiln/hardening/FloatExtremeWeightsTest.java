package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A float weight equal to +-FLT_MAX (the largest finite float32) must give generated C that
 * compiles and runs: once it was written as {@code FLT_MAX} in a file without {@code <float.h>},
 * so gcc failed in the AoT C interface and in {@code flash}. The shared float models are patched
 * in place (the first two weights of the first float constant become +FLT_MAX and -FLT_MAX) and
 * built both ways; the patched weights must arrive on the device bit-exact, so the run must give
 * the same outputs on the C interface and on the device.
 */
class FloatExtremeWeightsTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0}/{1}")
  @CsvSource({"tflite,digits_cnn_float", "onnx,onnx_digits_cnn"})
  void weightsEqualToFltMaxCompileInTheCInterfaceAndInFlash(String format, String name) throws Exception {
    Case c = ReferenceModels.shared(format, name);
    Path patched = tmp.resolve(c.modelFile().getFileName());
    Files.write(patched, withExtremeWeights(c.modelFile()));
    Model model = Kiln.load(patched, c.loadOptions());
    assertTrue(model.graph().tensors().stream().anyMatch(t -> t.isConstant() && t.dtype() == DType.FLOAT32
        && holds(t.data(), Float.MAX_VALUE) && holds(t.data(), -Float.MAX_VALUE)), "the patch took");
    Tensor in = Tensor.load(c.input(0, 0));

    Build aot = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    List<Tensor> viaC = aot.compileForHost(tmp.resolve("aot")).run(List.of(in));

    Build graph = model.build(Executor.graph());
    try (DeviceSession dev = graph.flash(Device.host())) {
      var ex = dev.executor();
      ex.setInput(0, in).run();
      assertEquals(viaC.get(0), ex.getOutput(0), "graph executor on the device vs the AoT C interface");
    }
  }

  /** The model's bytes with the first float constant's first two values replaced by +-FLT_MAX. */
  private static byte[] withExtremeWeights(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    Model original = Kiln.load(file, ReferenceModels.shared(file.toString().endsWith(".onnx") ? "onnx" : "tflite",
        file.getParent().getFileName().toString()).loadOptions());
    for (var t : original.graph().tensors()) {
      if (!t.isConstant() || t.dtype() != DType.FLOAT32 || t.elements() < 16) continue;
      byte[] data = t.data();
      int at = indexOf(bytes, java.util.Arrays.copyOf(data, 16));
      if (at < 0) continue; // stored in another layout: try the next constant
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      b.putFloat(at, Float.MAX_VALUE);
      b.putFloat(at + 4, -Float.MAX_VALUE);
      return bytes;
    }
    throw new AssertionError(file + ": no float constant found in the file's bytes");
  }

  private static boolean holds(byte[] data, float v) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 4 <= data.length; i += 4) if (b.getFloat(i) == v) return true;
    return false;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }
}
