package dev.kiln.frontend.tflite;

import static dev.kiln.frontend.tflite.OperatorMappingTest.error;
import static dev.kiln.frontend.tflite.OperatorMappingTest.read;
import static dev.kiln.frontend.tflite.TestModel.FLOAT32;
import static dev.kiln.frontend.tflite.TestModel.INT8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.tflite.FlatBufferWriter.Obj;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tensor dtypes, shapes, quantization, the buffer rule and signatures, on hand-built files. */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class TensorDecodingTest {
  private static final int RELU = 19;

  /** x -> RELU -> y plus whatever extra tensors the test adds; x and y are tensors 0 and 1. */
  private static TestModel relu(int type, int... shape) {
    TestModel m = new TestModel();
    int x = m.tensor("x", type, shape);
    int y = m.tensor("y", type, shape);
    m.op(RELU, new int[] {x}, new int[] {y});
    return m.io(new int[] {x}, new int[] {y});
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"FLOAT32, 0", "INT32, 2", "UINT8, 3", "INT64, 4", "BOOL, 6", "INT16, 7", "INT8, 9"})
  void supported_tensor_types_map_to_kiln_dtypes(String dtype, int code) throws Exception {
    assertEquals(DType.valueOf(dtype), read(relu(code, 2, 3)).inputs().get(0).dtype());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"STRING, 5", "FLOAT16, 1", "COMPLEX64, 8", "FLOAT64, 10", "UINT32, 15", "BFLOAT16, 18", "code 40, 40",
      "code -3, -3"})
  void other_tensor_types_are_refused_naming_tensor_and_type(String name, int code) {
    assertEquals("m.tflite: tensor 'x' (index 0) has type " + name + ", which Kiln does not compile (supported: float32,"
        + " int8, uint8, int16, int32, int64, bool; int4 constants)", error(relu(code, 4)));
  }

  @Test
  void a_run_time_int4_tensor_is_refused_int4_constants_are_read() {
    assertEquals("m.tflite: tensor 'x' (index 0) is an INT4 run-time tensor; Kiln reads INT4 constants (packed weights,"
        + " unpacked to int8 as TFLite Micro does) only", error(relu(17, 4)));
  }

  @Test
  void an_absent_type_is_float32_and_an_absent_shape_is_a_scalar() throws Exception {
    TestModel m = relu(FLOAT32, 4);
    m.tensorTable(0).remove(1).remove(0);
    m.tensorTable(1).remove(0);
    Tensor x = read(m).inputs().get(0);
    assertEquals(DType.FLOAT32, x.dtype());
    assertArrayEquals(new int[0], x.shape());
  }

  @Test
  void an_unnamed_tensor_is_called_after_its_index() throws Exception {
    TestModel m = relu(FLOAT32, 4);
    m.tensorTable(1).remove(3);
    assertEquals("tensor_1", read(m).outputs().get(0).name());
  }

  @Test
  void a_dynamic_dimension_in_shape_is_refused() {
    assertEquals("m.tflite: tensor 'x' (index 0) has a dynamic shape [1,-1]; Kiln compiles static shapes only (fix the"
        + " input shape before converting)", error(relu(FLOAT32, 1, -1)));
  }

  @Test
  void a_dynamic_batch_in_shape_signature_is_accepted_only_over_a_batch_of_one() throws Exception {
    TestModel ok = relu(FLOAT32, 1, 640);
    ok.tensorTable(0).ints(7, -1, 640);
    assertArrayEquals(new int[] {1, 640}, read(ok).inputs().get(0).shape());

    TestModel batch2 = relu(FLOAT32, 2, 640);
    batch2.tensorTable(0).ints(7, -1, 640);
    assertEquals("m.tflite: tensor 'x' (index 0) has a dynamic dimension 0 (shape signature [-1,640], shape [2,640]);"
        + " Kiln compiles static shapes only, with at most a dynamic batch of 1", error(batch2));
  }

  @Test
  void a_shape_over_2_gib_is_refused() {
    assertEquals("m.tflite: tensor 'x' (index 0) has shape [65536,65536], over 2 GiB of float32; Kiln cannot hold it",
        error(relu(FLOAT32, 65536, 65536)));
  }

  @Test
  void one_scale_is_per_tensor_quantization() throws Exception {
    TestModel m = relu(INT8, 1, 4);
    m.quant(0, new float[] {0.5f}, new long[] {-3}, 1);
    assertEquals(Quantization.perTensor(0.5f, -3), read(m).inputs().get(0).quantization());
  }

  @Test
  void several_scales_are_per_axis_along_quantized_dimension() throws Exception {
    TestModel m = relu(INT8, 1, 4);
    int w = m.constant("w", INT8, new int[] {2, 3}, new byte[6]);
    m.quant(w, new float[] {0.1f, 0.2f, 0.3f}, new long[] {0, 0, 0}, 1);
    m.op(RELU, new int[] {w}, new int[] {m.tensor("z", INT8, 2, 3)});
    Tensor t = read(m).tensors().get(w);
    assertEquals(Quantization.perAxis(new float[] {0.1f, 0.2f, 0.3f}, new long[] {0, 0, 0}, 1), t.quantization());
    assertTrue(t.isConstant());
  }

  @Test
  void an_empty_scale_vector_means_not_quantized_even_with_zero_points() throws Exception {
    TestModel m = relu(INT8, 4);
    m.tensorTable(0).obj(4, new Obj().floats(2).longs(3, 5));
    assertFalse(read(m).inputs().get(0).quantization().isQuantized());
  }

  @Test
  void quantization_with_mismatched_counts_is_refused() {
    TestModel zeroPoints = relu(INT8, 1, 4);
    zeroPoints.quant(0, new float[] {0.5f}, new long[0], 0);
    assertEquals("m.tflite: tensor 'x' (index 0) has 1 quantization scales but 0 zero points; they must be equally many",
        error(zeroPoints));

    TestModel channels = relu(INT8, 1, 4);
    channels.quant(0, new float[] {1, 2, 3}, new long[] {0, 0, 0}, 1);
    assertEquals("m.tflite: tensor 'x' (index 0) has 3 per-channel scales along dimension 1, but its shape [1,4] has 4"
        + " entries there", error(channels));

    TestModel axis = relu(INT8, 1, 4);
    axis.quant(0, new float[] {1, 2}, new long[] {0, 0}, 2);
    assertEquals("m.tflite: tensor 'x' (index 0) is quantized along dimension 2, but its shape [1,4] has rank 2",
        error(axis));
  }

  @Test
  void custom_quantization_is_refused() {
    TestModel m = relu(INT8, 4);
    m.tensorTable(0).obj(4, new Obj().floats(2, 1f).longs(3, 0).i8(4, 1).obj(5, new Obj()));
    assertEquals("m.tflite: tensor 'x' (index 0) uses custom quantization (details type 1); Kiln supports affine"
        + " scale/zero-point quantization only", error(m));
  }

  /** relu(x + c) where c is a 4-float constant; c is tensor 2. */
  private static TestModel withConstant(byte[] data) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int c = m.constant("c", FLOAT32, new int[] {4}, data);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(0, new int[] {x, c}, new int[] {y});
    return m.io(new int[] {x}, new int[] {y});
  }

  @Test
  void constant_data_comes_from_the_buffer_and_activations_own_empty_buffers() throws Exception {
    byte[] data = new byte[16];
    for (int i = 0; i < 16; i++) data[i] = (byte) i;
    Graph g = read(withConstant(data));
    assertArrayEquals(data, g.tensors().get(1).data());
    assertNull(g.tensors().get(0).data());
    assertNull(g.tensors().get(2).data());
    assertEquals(16, g.weightBytes());
  }

  @Test
  void an_empty_data_vector_is_not_a_constant() throws Exception {
    TestModel m = relu(FLOAT32, 4);
    m.bufferOf(0).bytes(0, new byte[0]);
    assertFalse(read(m).inputs().get(0).isConstant());
  }

  @Test
  void data_of_the_wrong_size_is_refused() {
    assertEquals("m.tflite: tensor 'c' (index 1) has 12 bytes of constant data, but shape [4] of float32 needs 16",
        error(withConstant(new byte[12])));
  }

  @Test
  void a_buffer_index_past_the_buffer_list_is_corruption() {
    TestModel m = withConstant(new byte[16]);
    m.tensorTable(1).i32(2, 99);
    assertEquals("m.tflite: truncated or corrupt: tensor 'c' (index 1) refers to buffer 99, but the model has only 4"
        + " buffers", error(m));
  }

  /** A model whose constant c lives after the FlatBuffer (offset > 1), 16-aligned like the exporter does. */
  private static byte[] appended(byte[] payload, long sizeDelta) {
    TestModel m = withConstant(new byte[0]);
    Obj buffer = m.bufferOf(1).remove(0).i64(1, 2).i64(2, payload.length + sizeDelta);
    int flatbuffer = m.bytes().length;
    int offset = (flatbuffer + 15) / 16 * 16;
    buffer.i64(1, offset);
    byte[] head = m.bytes();
    assertEquals(flatbuffer, head.length);
    byte[] file = Arrays.copyOf(head, offset + payload.length);
    System.arraycopy(payload, 0, file, offset, payload.length);
    return file;
  }

  @Test
  void appended_buffers_are_read_from_the_offset_after_the_flatbuffer() throws Exception {
    byte[] payload = new byte[16];
    Arrays.fill(payload, (byte) 0x3f);
    Graph g = TfliteReader.read("big.tflite", appended(payload, 0));
    assertArrayEquals(payload, g.tensors().get(1).data());
  }

  @Test
  void an_appended_buffer_past_the_end_of_the_file_is_corruption() {
    byte[] file = appended(new byte[16], 32);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read("big.tflite", file));
    int offset = file.length - 16;
    assertEquals("big.tflite: truncated or corrupt: buffer 2 of tensor 'c' (index 1) points to 48 bytes at offset " + offset
        + " (appended-buffer layout), past the end of the file (" + file.length + " bytes)", e.getMessage());
  }

  @Test
  void a_buffer_offset_of_1_is_not_a_payload_position() throws Exception {
    TestModel m = relu(FLOAT32, 4);
    m.bufferOf(0).i64(1, 1).i64(2, 16);
    assertFalse(read(m).inputs().get(0).isConstant());
  }

  @Test
  void sparse_external_and_input_variable_tensors_are_refused() {
    TestModel sparse = withConstant(new byte[16]);
    sparse.tensorTable(1).obj(6, new Obj().ints(0, 0));
    assertEquals("m.tflite: tensor 'c' (index 1) is a sparse constant; Kiln reads dense weights only (convert the model"
        + " without sparsity)", error(sparse));

    TestModel external = withConstant(new byte[0]);
    external.tensorTable(1).i32(2, 0).i32(10, 3);
    assertEquals("m.tflite: tensor 'c' (index 1) keeps its weights in an external file (external buffer 3); Kiln reads"
        + " models whose weights are inside the .tflite file", error(external));

    TestModel variable = relu(FLOAT32, 4);
    variable.tensorTable(0).bool(5, true);
    assertEquals("m.tflite: tensor 'x' (index 0) is a variable (state kept between runs) and a model input; Kiln keeps"
        + " variables inside the model, where the stateful operators (SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM) update them",
        error(variable));
  }

  @Test
  void signature_keys_are_aliases_and_the_subgraph_keeps_the_io_order() throws Exception {
    TestModel m = new TestModel();
    int a = m.tensor("serving_a:0", FLOAT32, 4);
    int b = m.tensor("serving_b:0", FLOAT32, 4);
    int y = m.tensor("Identity", FLOAT32, 4);
    m.op(0, new int[] {a, b}, new int[] {y});
    m.io(new int[] {b, a}, new int[] {y});
    Map<String, Integer> in = new LinkedHashMap<>();
    in.put("a", a);
    in.put("b", b);
    m.signature("serving_default", in, Map.of("Identity", y, "out", y));
    Graph g = read(m);
    assertEquals(List.of("serving_b:0", "serving_a:0"), g.inputs().stream().map(Tensor::name).toList());
    assertEquals(List.of("serving_b_0", "serving_a_0"), g.inputs().stream().map(Tensor::cName).toList());
    assertSame(g.tensors().get(a), g.find("a").orElseThrow());
    assertSame(g.tensors().get(b), g.find("b").orElseThrow());
    // A key equal to the tensor's own name adds nothing.
    assertEquals(List.of("out"), g.outputs().get(0).aliases());
  }

  @Test
  void a_signature_pointing_past_the_tensors_is_corruption() {
    TestModel m = relu(FLOAT32, 4).signature("s", Map.of("in", 9), Map.of());
    assertEquals("m.tflite: truncated or corrupt: signature 's' maps 'in' to tensor 9, but the subgraph has only 2 tensors",
        error(m));
  }

  @Test
  void colliding_c_names_stay_unique_and_both_spellings_resolve() throws Exception {
    TestModel m = new TestModel();
    int a = m.tensor("input:0", FLOAT32, 4);
    int b = m.tensor("input_0", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(0, new int[] {a, b}, new int[] {y});
    m.io(new int[] {a, b}, new int[] {y});
    Graph g = read(m);
    Tensor colon = g.find("input:0").orElseThrow();
    Tensor underscore = g.find("input_0").orElseThrow();
    assertEquals("input_0", underscore.cName());
    assertEquals("input_0_1", colon.cName());
    assertSame(colon, g.find("input_0_1").orElseThrow());
  }
}
