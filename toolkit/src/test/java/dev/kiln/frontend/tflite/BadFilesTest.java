package dev.kiln.frontend.tflite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.frontend.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that are not TFLite models at all, or not version 3: one clear sentence each. */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class BadFilesTest {
  @TempDir Path dir;

  private static String message(String name, byte[] bytes) {
    return assertThrows(ModelFormatException.class, () -> TfliteReader.read(name, bytes)).getMessage();
  }

  @Test
  void a_missing_file_is_reported_with_its_path() {
    Path missing = dir.resolve("nope.tflite");
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read(missing));
    assertEquals(missing + ": cannot read the model: no such file (looked for " + missing.toAbsolutePath() + ")", e.getMessage());
    assertEquals(missing.toString(), e.file());
  }

  @Test
  void a_directory_is_not_a_model_file() {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read(dir));
    assertEquals(dir + ": is a directory, not a model file", e.getMessage());
  }

  @Test
  void an_empty_file_says_it_is_empty() throws Exception {
    Path empty = Files.write(dir.resolve("empty.tflite"), new byte[0]);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read(empty));
    assertEquals(empty + ": the file is empty (0 bytes); a .tflite model starts with the identifier TFL3 at byte 4",
        e.getMessage());
  }

  @Test
  void a_file_shorter_than_the_header_shows_its_bytes() {
    assertEquals("tiny.tflite: not a TFLite model: the file is only 5 bytes (1c 00 00 00 54 (\"....T\")), but a .tflite"
        + " file starts with an 8-byte header holding the identifier TFL3 at byte 4",
        message("tiny.tflite", new byte[] {0x1c, 0, 0, 0, 'T'}));
  }

  @Test
  void a_text_file_is_recognised_as_text() {
    byte[] text = "hello, this is not a model\n".getBytes(StandardCharsets.US_ASCII);
    assertEquals("notes.tflite: not a TFLite model: bytes 4..7 are 6f 2c 20 74 (\"o, t\"), but a .tflite file has the"
        + " identifier TFL3 at byte 4 (the file starts with 68 65 6c 6c 6f 2c 20 74 (\"hello, t\")); this looks like a text file",
        message("notes.tflite", text));
  }

  @Test
  void an_onnx_model_is_recognised_as_onnx() throws Exception {
    byte[] onnx = Files.readAllBytes(SharedModels.root().resolve("onnx_digits_cnn").resolve(
        Files.list(SharedModels.root().resolve("onnx_digits_cnn")).filter(p -> p.toString().endsWith(".onnx"))
            .findFirst().orElseThrow().getFileName()));
    assertEquals("digits.onnx: not a TFLite model: bytes 4..7 are 70 79 74 6f (\"pyto\"), but a .tflite file has the"
        + " identifier TFL3 at byte 4 (the file starts with 08 07 12 07 70 79 74 6f (\"....pyto\"));"
        + " this looks like an ONNX model (protobuf); load it with the ONNX frontend",
        message("digits.onnx", onnx));
  }

  @Test
  void a_zip_archive_is_recognised_as_zip() {
    byte[] zip = {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0};
    assertEquals("model.keras: not a TFLite model: bytes 4..7 are 14 00 00 00 (\"....\"), but a .tflite file has the"
        + " identifier TFL3 at byte 4 (the file starts with 50 4b 03 04 14 00 00 00 (\"PK......\"));"
        + " this looks like a zip archive (a Keras .keras file or a zipped SavedModel?), not a .tflite file",
        message("model.keras", zip));
  }

  @Test
  void a_wrong_identifier_in_a_real_model_is_refused() {
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    bytes[7] = '2';
    assertEquals("digits.tflite: not a TFLite model: bytes 4..7 are 54 46 4c 32 (\"TFL2\"), but a .tflite file has the"
        + " identifier TFL3 at byte 4 (the file starts with 1c 00 00 00 54 46 4c 32 (\"....TFL2\"))",
        message("digits.tflite", bytes));
  }

  @Test
  void a_size_prefixed_flatbuffer_is_explained() {
    byte[] model = SharedModels.bytes("digits_cnn_int8");
    byte[] prefixed = new byte[model.length + 4];
    prefixed[0] = (byte) model.length;
    prefixed[1] = (byte) (model.length >> 8);
    System.arraycopy(model, 0, prefixed, 4, model.length);
    assertEquals("p.tflite: not a TFLite model: bytes 4..7 are 1c 00 00 00 (\"....\"), but a .tflite file has the"
        + " identifier TFL3 at byte 4 (the file starts with 90 3b 00 00 1c 00 00 00 (\".;......\"));"
        + " TFL3 is at byte 8: this looks like a size-prefixed FlatBuffer, which TFLite does not write",
        message("p.tflite", prefixed));
  }

  @Test
  void schema_version_4_is_refused() throws Exception {
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    Patcher p = new Patcher(bytes);
    int version = p.field(p.root(), 0);
    assertEquals(3, p.int32(version));
    p.putInt32(version, 4);
    assertEquals("digits.tflite: the model has TFLite schema version 4, but Kiln reads schema version 3, the only one the"
        + " TFLite runtime accepts", message("digits.tflite", bytes));
  }

  @Test
  void a_missing_version_reads_as_0_and_is_refused() {
    byte[] bytes = new TestModel().version(null).bytes();
    assertEquals("m.tflite: the model has TFLite schema version 0 (Model.version is missing), but Kiln reads schema"
        + " version 3, the only one the TFLite runtime accepts", message("m.tflite", bytes));
  }

  @Test
  void a_root_offset_past_the_end_is_reported_with_offsets() {
    byte[] bytes = Arrays.copyOf(SharedModels.bytes("digits_cnn_int8"), 20);
    assertEquals("d.tflite: truncated or corrupt: Model (root offset) at offset 0 points to offset 28, past the end of the"
        + " file (20 bytes)", message("d.tflite", bytes));
  }
}
