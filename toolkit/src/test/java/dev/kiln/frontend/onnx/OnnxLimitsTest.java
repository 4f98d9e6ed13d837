package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.frontend.ModelFormatException;
import dev.kiln.testing.ReferenceModels;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stated limits (ModelLimits) on ONNX files: a file over 256 MiB is refused from its size before
 * it is read; an input or a whole model needing over 1 GiB of tensors, or a constant about to be
 * folded over 16 MiB, is refused from its shapes, before anything that big is allocated.
 */
class OnnxLimitsTest {
  static final int FLOAT = 1;
  @TempDir Path tmp;

  @Test
  void aModelFileOverTheLimitIsRefusedFromItsSize() throws Exception {
    Path big = tmp.resolve("padded.onnx");
    Files.copy(ReferenceModels.shared("onnx", "onnx_digits_cnn").modelFile(), big);
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(600L << 20);
    }
    KilnException e = assertThrows(KilnException.class, () -> Kiln.load(big));
    assertEquals(big + ": the model file is 629145600 bytes (600 MiB); Kiln reads files up to 256 MiB (ModelLimits.MAX_FILE_BYTES),"
        + " far above any microcontroller model: is this the right file?", e.getMessage());
  }

  @Test
  void anInputNeedingMoreThanTheLimitIsRefused() {
    ProtoWriter graph = new ProtoWriter()
        .message(1, ProtoWriter.node("Relu", new String[] {"x"}, new String[] {"y"}))
        .string(2, "g")
        .message(11, ProtoWriter.valueInfo("x", FLOAT, 65536, 65536))
        .message(12, ProtoWriter.valueInfo("y", FLOAT, 65536, 65536));
    String m = readError(graph);
    assertEquals("m.onnx: input 'x' has shape [65536,65536], 17179869184 bytes (16384 MiB); Kiln takes models whose tensors need at"
        + " most 1024 MiB in all (ModelLimits.MAX_TENSOR_BYTES)", m);
  }

  /** Two small constants whose broadcast sum has 2^30 elements: once an OutOfMemoryError, now refused first. */
  @Test
  void aFoldedConstantNeedingMoreThanTheLimitIsRefused() {
    ProtoWriter row = new ProtoWriter().varint(1, 1).varint(1, 32768).varint(2, FLOAT).string(8, "a").bytes(9, new byte[4 * 32768]);
    ProtoWriter col = new ProtoWriter().varint(1, 32768).varint(1, 1).varint(2, FLOAT).string(8, "b").bytes(9, new byte[4 * 32768]);
    ProtoWriter graph = inputPlusConstant(ProtoWriter.node("Add", new String[] {"a", "b"}, new String[] {"c"}), row, col, 32768, 32768);
    String m = readError(graph);
    assertEquals(true, m.contains("the folded constant has shape [32768,32768], 8589934592 bytes (8192 MiB); Kiln computes constants of"
        + " at most 16 MiB while it reads a model (ModelLimits.MAX_FOLDED_BYTES), more than any microcontroller's flash holds"), m);
  }

  /** Found by the reader fuzzer: a Pad of a constant by millions kept the reader busy for minutes. */
  @Test
  void aConstantPaddedPastTheFoldingLimitIsRefusedBeforeItIsComputed() {
    java.nio.ByteBuffer pads = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    pads.putLong(0).putLong(0).putLong(0).putLong(5_000_000);
    ProtoWriter a = new ProtoWriter().varint(1, 1).varint(1, 4).varint(2, FLOAT).string(8, "a").bytes(9, new byte[16]);
    ProtoWriter p = new ProtoWriter().varint(1, 4).varint(2, 7).string(8, "pads").bytes(9, pads.array());
    ProtoWriter graph = inputPlusConstant(ProtoWriter.node("Pad", new String[] {"a", "pads"}, new String[] {"c"}), a, p, 1, 5_000_004);
    String m = readError(graph);
    assertEquals(true, m.contains(": the padded constant has shape [1,5000004], 20000016 bytes (19.1 MiB); Kiln computes constants of"
        + " at most 16 MiB while it reads a model"), m);
  }

  /** The error reading a model of this graph (opset 13) gives. */
  private static String readError(ProtoWriter graph) {
    return assertThrows(ModelFormatException.class,
        () -> OnnxReader.read("m.onnx", ProtoWriter.model(13, graph).bytes(), Map.of())).getMessage();
  }

  /** y = x + c, x a [1,1] input and y of shape yDims, c the output of {@code folded} on the two initializers. */
  private static ProtoWriter inputPlusConstant(ProtoWriter folded, ProtoWriter init1, ProtoWriter init2, long... yDims) {
    return new ProtoWriter()
        .message(1, folded)
        .message(1, ProtoWriter.node("Add", new String[] {"x", "c"}, new String[] {"y"}))
        .string(2, "g")
        .message(5, init1)
        .message(5, init2)
        .message(11, ProtoWriter.valueInfo("x", FLOAT, 1, 1))
        .message(12, ProtoWriter.valueInfo("y", FLOAT, yDims));
  }
}
