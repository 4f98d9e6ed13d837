package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.LoadOptions;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ONNX input the application always feeds the same (a Resize's scales, a TopK's K) compiled as a constant
 * ({@code LoadOptions.constantInput}, {@code --constant-input}): it folds, leaves the compiled model's inputs, and the
 * model computes what ONNX's own node tests expect; a refusal for such an input says so.
 */
class ConstantInputTest {
  static final Path NODE = Path.of("src/test/resources/onnx-node");

  @Test void aResizeWhoseScalesAreAnInputRunsWithThemAsAConstant(@TempDir Path work) throws Exception {
    Path dir = NODE.resolve("test_resize_upsample_scales_linear");
    Model model = Kiln.load(dir.resolve("model.onnx"), LoadOptions.constantInput("scales", Tensor.load(dir.resolve("sample0_in1.npy"))));
    assertEquals(1, model.graph().inputs().size(), "the scales are no longer an input");
    HostModel program = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).compileForHost(work);
    Tensor got = program.run(List.of(Tensor.load(dir.resolve("sample0_in0.npy")))).get(0);
    assertNull(OnnxNodeSuiteTest.mismatch(got, Tensor.load(dir.resolve("sample0_out0.npy"))));
  }

  @Test void aTopKWhoseKIsAnInputIsRefusedSayingHowToMakeItAConstant() {
    Path file = Path.of("src/test/resources/onnx-ops2-refused/topk_runtime_k.onnx");
    String m = assertThrows(KilnException.class, () -> Kiln.load(file)).getMessage();
    assertTrue(m.contains("LoadOptions.constantInput(\"k\""), m);
    assertFalse(m.contains("\n"), m);
    Model model = Kiln.load(file, LoadOptions.constantInput("k", int64(2)));
    assertEquals(1, model.graph().inputs().size());
  }

  @Test void aConstantForNoInputOrOfTheWrongTypeOrShapeIsRefusedInOneLine() {
    Path file = Path.of("src/test/resources/onnx-ops2-refused/topk_runtime_k.onnx");
    String none = assertThrows(KilnException.class, () -> Kiln.load(file, LoadOptions.constantInput("K", int64(2)))).getMessage();
    assertTrue(none.contains("no such run-time input; its inputs are:") && none.contains("k "), none);
    String type = assertThrows(KilnException.class,
        () -> Kiln.load(file, LoadOptions.constantInput("k", Tensor.ofFloats(new int[] {1}, 2f)))).getMessage();
    assertTrue(type.contains("is float32, but the model declares INT64 (7)"), type);
    String shape = assertThrows(KilnException.class,
        () -> Kiln.load(file, LoadOptions.constantInput("k", Tensor.of(DType.INT64, new int[] {2}, new byte[16])))).getMessage();
    assertTrue(shape.contains("has shape [2], but the model declares [1]"), shape);
    String tflite = assertThrows(KilnException.class, () -> Kiln.load(ReferenceModelsPaths.anyTflite(),
        LoadOptions.constantInput("x", int64(1)))).getMessage();
    assertTrue(tflite.contains("apply to ONNX models"), tflite);
  }

  static Tensor int64(long v) {
    return Tensor.of(DType.INT64, new int[] {1}, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
  }

  /** A TFLite file from the op fixtures. */
  static final class ReferenceModelsPaths {
    static Path anyTflite() { return dev.kiln.testing.ReferenceModels.opFixtures().get(0).modelFile(); }
  }
}
