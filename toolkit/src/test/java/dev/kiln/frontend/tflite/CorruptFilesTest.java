package dev.kiln.frontend.tflite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.Graph;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Truncated, fuzzed and patched copies of the reference models: each must give a valid graph or a
 * ModelFormatException raised by an explicit check (no wrapped runtime exception), never anything
 * else and never hang.
 */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class CorruptFilesTest {
  private static final String SUPPORTED = SupportedOperators.list();

  /** Reads {@code bytes}; returns the graph, or null after checking the exception is an explicit one. */
  private static Graph readOrReject(String name, byte[] bytes) {
    try {
      return TfliteReader.read(name, bytes);
    } catch (ModelFormatException e) {
      assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
      assertNull(e.getCause(), () -> "rejected only by the safety net, not an explicit check: " + e.getMessage());
      return null;
    } catch (Throwable t) {
      throw new AssertionError("read() let " + t + " escape", t);
    }
  }

  @Test
  void a_truncated_model_names_the_field_its_offset_and_the_file_size() {
    byte[] bytes = Arrays.copyOf(SharedModels.bytes("digits_cnn_int8"), 15000);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("digits.tflite", bytes));
    assertEquals("digits.tflite: truncated or corrupt: Model.operator_codes at offset 52 points to offset 15124,"
        + " past the end of the file (15000 bytes)", e.getMessage());
  }

  @ParameterizedTest(name = "cut at {0} bytes")
  @ValueSource(ints = {8, 12, 29, 64, 100, 1000, 4096, 7624, 12000, 15200, 15247})
  void truncating_digits_anywhere_gives_a_truncated_or_corrupt_message(int length) {
    byte[] bytes = Arrays.copyOf(SharedModels.bytes("digits_cnn_int8"), length);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("d.tflite", bytes));
    assertTrue(e.getMessage().startsWith("d.tflite: truncated or corrupt: "), e.getMessage());
    assertTrue(e.getMessage().endsWith("past the end of the file (" + length + " bytes)"), e.getMessage());
    assertNull(e.getCause());
  }

  @Test
  void every_truncation_of_a_small_model_is_rejected_cleanly() {
    byte[] model = SharedModels.bytes("digits_cnn_int8");
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (int length = 0; length < model.length; length++) {
        if (readOrReject("d.tflite", Arrays.copyOf(model, length)) != null) fail("a " + length + "-byte prefix was accepted");
      }
    });
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"digits_cnn_int8", "digits_cnn_float", "mlperf_kws_int8", "mlperf_ic_int8", "mlperf_ad_int8"})
  void random_byte_mutations_never_escape_as_another_exception(String folder) {
    byte[] model = SharedModels.bytes(folder);
    Random random = new Random(folder.hashCode());
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      int rejected = 0;
      for (int i = 0; i < 300; i++) {
        byte[] bytes = model.clone();
        for (int k = 1 + random.nextInt(4); k > 0; k--) mutate(bytes, random);
        if (readOrReject(folder + ".tflite", bytes) == null) rejected++;
      }
      assertTrue(rejected > 30, "mutations should mostly hit structure, rejected only " + rejected);
    });
  }

  /** Mutations aimed at the FlatBuffer structure: offsets, lengths and enums, not only weights. */
  private static void mutate(byte[] bytes, Random random) {
    // Weights sit in the middle of large files; tables and vectors at the start and the end.
    int region = Math.min(bytes.length, 8192);
    int at = random.nextBoolean() ? random.nextInt(region) : bytes.length - 1 - random.nextInt(region);
    switch (random.nextInt(4)) {
      case 0: bytes[at] = (byte) random.nextInt(256); break;
      case 1: bytes[at] ^= (byte) (1 << random.nextInt(8)); break;
      case 2: bytes[at] = (byte) 0xff; break;
      default:
        int aligned = at & ~3;
        int[] nasty = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1, bytes.length, -4};
        int v = nasty[random.nextInt(nasty.length)];
        for (int b = 0; b < 4 && aligned + b < bytes.length; b++) bytes[aligned + b] = (byte) (v >>> (8 * b));
    }
  }

  @Test
  void overwriting_each_word_of_a_small_model_never_escapes_as_another_exception() {
    byte[] model = SharedModels.bytes("digits_cnn_int8");
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (int value : new int[] {0x7fffffff, 0xfffffffc}) {
        for (int at = 0; at + 4 <= model.length; at += 4) {
          byte[] bytes = model.clone();
          for (int b = 0; b < 4; b++) bytes[at + b] = (byte) (value >>> (8 * b));
          readOrReject("d.tflite", bytes);
        }
      }
    });
  }

  @Test
  void an_unsupported_builtin_code_patched_into_a_real_model_names_the_operator_and_its_tensors() throws Exception {
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    Graph original = TfliteReader.read("digits.tflite", bytes.clone());
    Patcher p = new Patcher(bytes);
    int convCode = codeIndex(p, 3);
    p.putInt32(p.field(p.element(p.root(), 1, convCode), 3), 147); // CONV_2D -> BUCKETIZE
    UnsupportedOperatorException e = assertThrows(UnsupportedOperatorException.class,
        () -> TfliteReader.read("digits.tflite", bytes));
    var conv = original.ops().get(0);
    assertEquals("digits.tflite: operator #0 BUCKETIZE (builtin code 147) is not supported by Kiln: inputs ['"
        + conv.input(0).name() + "', '" + conv.input(1).name() + "', '" + conv.input(2).name() + "'] -> outputs ['"
        + conv.output().name() + "']. Supported operators: " + SUPPORTED + ".", e.getMessage());
    assertEquals("BUCKETIZE", e.operator());
    assertEquals(0, e.operatorIndex());
  }

  @Test
  void a_real_model_patched_to_two_subgraphs_is_refused_naming_the_broken_offset() {
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    Patcher p = new Patcher(bytes);
    p.putInt32(p.vector(p.root(), 2), 2);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("digits.tflite", bytes));
    assertEquals("digits.tflite: truncated or corrupt: Model.subgraphs[1] at offset 10648 points to offset 928152, past the"
        + " end of the file (15248 bytes)", e.getMessage());
  }

  @Test
  void a_real_model_patched_to_a_dynamic_input_shape_is_refused() {
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    Patcher p = new Patcher(bytes);
    int input = p.element(p.element(p.root(), 2, 0), 0, 0);
    p.putInt32(p.vector(input, 0) + 4, -1);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("digits.tflite", bytes));
    assertEquals("digits.tflite: tensor 'predict_images:0' (index 0) has a dynamic shape [-1,8,8,1]; Kiln compiles"
        + " static shapes only (fix the input shape before converting)", e.getMessage());
  }

  @Test
  void a_dynamic_batch_of_one_is_accepted_but_another_dynamic_dimension_is_not() throws Exception {
    byte[] bytes = SharedModels.bytes("mlperf_kws_int8");
    assertEquals(49, TfliteReader.read("kws.tflite", bytes.clone()).inputs().get(0).dim(1));
    Patcher p = new Patcher(bytes);
    int input = p.element(p.element(p.root(), 2, 0), 0, 0);
    int signature = p.vector(input, 7);
    assertEquals(-1, p.int32(signature + 4));
    p.putInt32(signature + 8, -1);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("kws.tflite", bytes));
    assertEquals("kws.tflite: tensor 'input_1' (index 0) has a dynamic dimension 1 (shape signature [-1,-1,10,1],"
        + " shape [1,49,10,1]); Kiln compiles static shapes only, with at most a dynamic batch of 1", e.getMessage());
  }

  @Test
  void a_patched_float16_tensor_type_is_refused_naming_tensor_and_type() {
    // The int8 model: a float32 type equals the default and is not written at all.
    byte[] bytes = SharedModels.bytes("digits_cnn_int8");
    Patcher p = new Patcher(bytes);
    int input = p.element(p.element(p.root(), 2, 0), 0, 0);
    p.putInt8(p.field(input, 1), 1);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("digits.tflite", bytes));
    assertEquals("digits.tflite: tensor 'predict_images:0' (index 0) has type FLOAT16, which Kiln does not compile"
        + " (supported: float32, int8, uint8, int16, int32, int64, bool; int4 constants)", e.getMessage());
  }

  /** Index of the operator_codes entry with the given builtin code. */
  private static int codeIndex(Patcher p, int builtin) {
    for (int i = 0; ; i++) {
      if (p.int32(p.field(p.element(p.root(), 1, i), 3)) == builtin) return i;
    }
  }
}
