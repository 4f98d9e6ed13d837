package dev.kiln.frontend.tflite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.frontend.ModelFormatException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stated limits (ModelLimits): a model file over 256 MiB is refused from its size, before it is
 * read (it was once read whole and accepted after 17 s); a model whose tensors would need over 1 GiB
 * is refused from its shapes.
 */
class TfliteLimitsTest {
  @TempDir Path tmp;

  @Test
  void aModelFileOverTheLimitIsRefusedFromItsSize() throws Exception {
    Path big = tmp.resolve("padded.tflite");
    Files.copy(SharedModels.model("digits_cnn_int8"), big);
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(600L << 20); // sparse: a valid model followed by 600 MiB of holes
    }
    KilnException e = assertThrows(KilnException.class, () -> Kiln.load(big));
    assertEquals(big + ": the model file is 629145600 bytes (600 MiB); Kiln reads files up to 256 MiB (ModelLimits.MAX_FILE_BYTES),"
        + " far above any microcontroller model: is this the right file?", e.getMessage());
  }

  @Test
  void aModelWhoseTensorsNeedMoreThanTheLimitIsRefused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", 0, 16384, 16385); // float32: 1 GiB + 64 KiB each, under the 2 GiB a single tensor may have
    int y = m.tensor("y", 0, 16384, 16385);
    m.op(19, new int[] {x}, new int[] {y});
    m.io(new int[] {x}, new int[] {y});
    String message = assertThrows(ModelFormatException.class, () -> TfliteReader.read("m.tflite", m.bytes())).getMessage();
    assertEquals("m.tflite: its tensors would need 2147614720 bytes (2048.1 MiB) in all (the largest, 'x' [16384,16385] float32,"
        + " 1073807360 bytes (1024.1 MiB)); Kiln takes models whose tensors need at most 1024 MiB (ModelLimits.MAX_TENSOR_BYTES)", message);
  }
}
