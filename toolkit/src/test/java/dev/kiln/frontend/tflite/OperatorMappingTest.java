package dev.kiln.frontend.tflite;

import static dev.kiln.frontend.tflite.TestModel.FLOAT32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.frontend.tflite.FlatBufferWriter.Obj;
import dev.kiln.ir.Activation;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each supported TFLite operator, built by hand, maps to the expected ir op and options. */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class OperatorMappingTest {
  // BuiltinOperator codes.
  private static final int ADD = 0;
  private static final int AVERAGE_POOL_2D = 1;
  private static final int CONCATENATION = 2;
  private static final int CONV_2D = 3;
  private static final int DEPTHWISE_CONV_2D = 4;
  private static final int FULLY_CONNECTED = 9;
  private static final int MAX_POOL_2D = 17;
  private static final int MUL = 18;
  private static final int RELU = 19;
  private static final int SOFTMAX = 25;
  private static final int PAD = 34;
  private static final int MEAN = 40;
  private static final int SUB = 41;
  private static final int BUCKETIZE = 147;
  private static final int TOPK_V2 = 48;

  /** The supported list as the registry spells it (it grows with every operator family). */
  static final String SUPPORTED = SupportedOperators.list();

  static Graph read(TestModel m) throws ModelFormatException {
    return TfliteReader.read("m.tflite", m.bytes());
  }

  static String error(TestModel m) {
    return assertThrows(ModelFormatException.class, () -> read(m)).getMessage();
  }

  /** input -> CONV_2D(filter, bias) -> output, with the given shapes and Conv2DOptions. */
  private static TestModel conv(int[] in, int[] filter, int[] out, Obj options) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, in);
    int w = m.floats("w", filter);
    int b = m.floats("b", filter[0]);
    int y = m.tensor("y", FLOAT32, out);
    m.op(CONV_2D, new int[] {x, w, b}, new int[] {y}, 1, options);
    return m.io(new int[] {x}, new int[] {y});
  }

  @Test
  void conv_same_padding_puts_the_odd_pixel_after() throws Exception {
    // 6 wide, filter 3, stride 2 -> 3 outputs; (3-1)*2 + 3 - 6 = 1 pixel of padding, after.
    Obj o = new Obj().i32(1, 2).i32(2, 2).i8(3, 3); // padding absent = SAME
    Graph g = read(conv(new int[] {1, 6, 6, 1}, new int[] {2, 3, 3, 1}, new int[] {1, 3, 3, 2}, o));
    Op op = g.ops().get(0);
    assertEquals(OpType.CONV_2D, op.type());
    assertEquals(new Options.Conv(2, 2, 1, 1, new Options.Padding(0, 0, 1, 1), 1, Activation.RELU6), op.options());
    assertEquals(3, op.inputs().size());
  }

  @Test
  void conv_dilation_widens_the_effective_filter() throws Exception {
    // Height: filter 3 dilated by 2 = 5, SAME stride 1 on 6 rows -> 4 rows of padding, 2 + 2.
    Obj o = new Obj().i32(1, 1).i32(2, 1).i32(5, 2);
    Graph g = read(conv(new int[] {1, 6, 7, 1}, new int[] {1, 3, 3, 1}, new int[] {1, 6, 7, 1}, o));
    assertEquals(new Options.Conv(1, 1, 2, 1, new Options.Padding(2, 1, 2, 1), 1, Activation.NONE), g.ops().get(0).options());
  }

  @Test
  void conv_valid_padding_is_zero() throws Exception {
    Obj o = new Obj().i8(0, 1).i32(1, 2).i32(2, 2);
    Graph g = read(conv(new int[] {1, 6, 6, 1}, new int[] {1, 3, 3, 1}, new int[] {1, 2, 2, 1}, o));
    assertEquals(Options.Padding.ZERO, g.ops().get(0).options(Options.Conv.class).padding());
  }

  @Test
  void conv_output_size_that_disagrees_with_the_padding_rule_is_refused() {
    Obj o = new Obj().i8(0, 1).i32(1, 1).i32(2, 1);
    assertEquals("m.tflite: operator #0 (CONV_2D) output height 5 does not match VALID padding: input height 6, filter 3,"
        + " stride 1, dilation 1 give 4",
        error(conv(new int[] {1, 6, 6, 1}, new int[] {1, 3, 3, 1}, new int[] {1, 5, 4, 1}, o)));
  }

  @Test
  void conv_without_options_has_stride_0_and_is_refused() {
    TestModel m = conv(new int[] {1, 6, 6, 1}, new int[] {1, 3, 3, 1}, new int[] {1, 6, 6, 1}, new Obj());
    assertEquals("m.tflite: operator #0 (CONV_2D) has stride_w 0 (must be at least 1)", error(m));
  }

  @Test
  void conv_with_the_wrong_options_table_type_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4, 4, 1);
    int w = m.floats("w", 1, 1, 1, 1);
    int y = m.tensor("y", FLOAT32, 1, 4, 4, 1);
    m.op(CONV_2D, new int[] {x, w}, new int[] {y}, 5, new Obj().i32(1, 1).i32(2, 1));
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: operator #0 (CONV_2D) carries builtin options of union type 5, expected 1 (Conv2DOptions)", error(m));
  }

  @Test
  void conv_needs_4d_tensors() {
    TestModel m = conv(new int[] {6, 6, 1}, new int[] {1, 3, 3, 1}, new int[] {1, 6, 6, 1}, new Obj().i32(1, 1).i32(2, 1));
    assertEquals("m.tflite: operator #0 (CONV_2D) needs 4-D (NHWC) tensors, but tensor 'x' (index 0) has shape [6,6,1]", error(m));
  }

  @Test
  void depthwise_multiplier_comes_from_the_channel_counts() throws Exception {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4, 4, 2);
    int w = m.floats("w", 1, 3, 3, 6);
    int b = m.floats("b", 6);
    int y = m.tensor("y", FLOAT32, 1, 4, 4, 6);
    // depth_multiplier field says 7 on purpose: it is redundant and ignored.
    m.op(DEPTHWISE_CONV_2D, new int[] {x, w, b}, new int[] {y}, 2, new Obj().i32(1, 1).i32(2, 1).i32(3, 7).i8(4, 1));
    m.io(new int[] {x}, new int[] {y});
    assertEquals(new Options.Conv(1, 1, 1, 1, new Options.Padding(1, 1, 1, 1), 3, Activation.RELU), read(m).ops().get(0).options());
  }

  @Test
  void depthwise_output_channels_must_be_a_multiple_of_input_channels() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4, 4, 4);
    int w = m.floats("w", 1, 3, 3, 6);
    int y = m.tensor("y", FLOAT32, 1, 4, 4, 6);
    m.op(DEPTHWISE_CONV_2D, new int[] {x, w}, new int[] {y}, 2, new Obj().i32(1, 1).i32(2, 1));
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: operator #0 (DEPTHWISE_CONV_2D) output channels (6) are not a multiple of input channels (4)", error(m));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "MAX_POOL_2D VALID,     17, 1, 5, 2, 2, 0, 0, 0, 0, 0",
      "AVERAGE_POOL_2D SAME,  1,  0, 5, 3, 3, 1, 1, 1, 1, 1"})
  void pooling_reads_filter_stride_and_resolves_padding(String label, int code, int padding, int in, int out, int filter,
      int top, int left, int bottom, int right, int act) throws Exception {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, in, in, 3);
    int y = m.tensor("y", FLOAT32, 1, out, out, 3);
    m.op(code, new int[] {x}, new int[] {y}, 5,
        new Obj().i8(0, padding).i32(1, 2).i32(2, 2).i32(3, filter).i32(4, filter).i8(5, act));
    m.io(new int[] {x}, new int[] {y});
    Op op = read(m).ops().get(0);
    assertEquals(code == MAX_POOL_2D ? OpType.MAX_POOL_2D : OpType.AVERAGE_POOL_2D, op.type());
    assertEquals(new Options.Pool(filter, filter, 2, 2, new Options.Padding(top, left, bottom, right), Activation.values()[act]),
        op.options());
  }

  @Test
  void fully_connected_reads_keep_num_dims_and_accepts_an_absent_bias() throws Exception {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4);
    int w = m.floats("w", 3, 4);
    int y = m.tensor("y", FLOAT32, 1, 3);
    m.op(FULLY_CONNECTED, new int[] {x, w, -1}, new int[] {y}, 8, new Obj().i8(0, 4).bool(2, true));
    m.io(new int[] {x}, new int[] {y});
    Op op = read(m).ops().get(0);
    assertEquals(new Options.FullyConnected(Activation.TANH, true), op.options());
    assertEquals(3, op.inputs().size());
    assertNull(op.input(2));
  }

  @Test
  void fully_connected_with_shuffled_weights_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4);
    int w = m.floats("w", 3, 4);
    int y = m.tensor("y", FLOAT32, 1, 3);
    m.op(FULLY_CONNECTED, new int[] {x, w}, new int[] {y}, 8, new Obj().i8(1, 1));
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: operator #0 (FULLY_CONNECTED) uses weights_format 1 (SHUFFLED4x16INT8); Kiln supports only"
        + " the DEFAULT (0) weights layout", error(m));
  }

  private static TestModel unary(int code, int optionsType, Obj options) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 10);
    int y = m.tensor("y", FLOAT32, 1, 10);
    if (options == null) m.op(code, new int[] {x}, new int[] {y});
    else m.op(code, new int[] {x}, new int[] {y}, optionsType, options);
    return m.io(new int[] {x}, new int[] {y});
  }

  @Test
  void softmax_reads_beta() throws Exception {
    assertEquals(new Options.Softmax(0.5f), read(unary(SOFTMAX, 9, new Obj().f32(0, 0.5f))).ops().get(0).options());
  }

  @Test
  void softmax_without_beta_is_a_malformed_model() {
    String expected = "m.tflite: operator #0 (SOFTMAX) has no beta in its SoftmaxOptions; a SOFTMAX without beta is a"
        + " malformed model";
    assertEquals(expected, error(unary(SOFTMAX, 9, new Obj())));
    assertEquals(expected, error(unary(SOFTMAX, 0, null)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"RESHAPE, 22", "QUANTIZE, 114", "DEQUANTIZE, 6", "LOGISTIC, 14", "TANH, 28", "RELU, 19", "RELU6, 21"})
  void attribute_free_operators_get_options_none(String name, int code) throws Exception {
    Op op = read(unary(code, 0, null)).ops().get(0);
    assertEquals(OpType.valueOf(name), op.type());
    assertEquals(new Options.None(), op.options());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ADD, 0, 11, 1, RELU", "SUB, 41, 28, 3, RELU6", "MUL, 18, 21, 2, RELU_N1_TO_1", "ADD, 0, 0, 0, NONE"})
  void binary_elementwise_operators_read_their_fused_activation(String name, int code, int optionsType, int act,
      String activation) throws Exception {
    TestModel m = new TestModel();
    int a = m.tensor("a", FLOAT32, 1, 4);
    int b = m.floats("b", 4);
    int y = m.tensor("y", FLOAT32, 1, 4);
    if (optionsType == 0) m.op(code, new int[] {a, b}, new int[] {y});
    else m.op(code, new int[] {a, b}, new int[] {y}, optionsType, new Obj().i8(0, act));
    m.io(new int[] {a}, new int[] {y});
    Op op = read(m).ops().get(0);
    assertEquals(OpType.valueOf(name), op.type());
    assertEquals(new Options.Elementwise(Activation.valueOf(activation)), op.options());
  }

  @Test
  void an_unknown_fused_activation_is_refused() {
    TestModel m = new TestModel();
    int a = m.tensor("a", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(ADD, new int[] {a, a}, new int[] {y}, 11, new Obj().i8(0, 9));
    m.io(new int[] {a}, new int[] {y});
    assertEquals("m.tflite: operator #0 (ADD) has fused activation 9, not one of [NONE, RELU, RELU_N1_TO_1, RELU6, TANH,"
        + " SIGN_BIT] (0..5)", error(m));
  }

  private static TestModel concat(int axis) {
    TestModel m = new TestModel();
    int a = m.tensor("a", FLOAT32, 1, 2, 3);
    int b = m.tensor("b", FLOAT32, 1, 2, 4);
    int y = m.tensor("y", FLOAT32, 1, 2, 7);
    m.op(CONCATENATION, new int[] {a, b}, new int[] {y}, 10, new Obj().i32(0, axis).i8(1, 1));
    return m.io(new int[] {a, b}, new int[] {y});
  }

  @Test
  void concatenation_axis_is_made_non_negative() throws Exception {
    assertEquals(new Options.Concat(2, Activation.RELU), read(concat(-1)).ops().get(0).options());
    assertEquals(new Options.Concat(2, Activation.RELU), read(concat(2)).ops().get(0).options());
  }

  @Test
  void concatenation_axis_outside_the_rank_is_refused() {
    assertEquals("m.tflite: operator #0 (CONCATENATION) has axis 3, outside the output's rank 3", error(concat(3)));
    assertEquals("m.tflite: operator #0 (CONCATENATION) has axis -4, outside the output's rank 3", error(concat(-4)));
  }

  private static TestModel pad(boolean int64, int[] out, int... values) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 2, 2, 1);
    int p = int64 ? m.int64s("paddings", new int[] {4, 2}, java.util.Arrays.stream(values).asLongStream().toArray())
        : m.int32s("paddings", new int[] {4, 2}, values);
    int y = m.tensor("y", FLOAT32, out);
    m.op(PAD, new int[] {x, p}, new int[] {y}, 22, new Obj());
    return m.io(new int[] {x}, new int[] {y});
  }

  @Test
  void pad_reads_before_and_after_from_its_int32_or_int64_constant_and_keeps_it_as_input() throws Exception {
    for (boolean int64 : new boolean[] {false, true}) {
      Op op = read(pad(int64, new int[] {1, 5, 9, 1}, 0, 0, 1, 2, 3, 4, 0, 0)).ops().get(0);
      Options.Pad o = op.options(Options.Pad.class);
      assertArrayEquals(new int[] {0, 1, 3, 0}, o.before());
      assertArrayEquals(new int[] {0, 2, 4, 0}, o.after());
      assertEquals("paddings", op.input(1).name());
    }
  }

  @Test
  void pad_with_an_output_shape_that_does_not_add_up_is_refused() {
    assertEquals("m.tflite: operator #0 (PAD) output shape [1,5,8,1] does not match input [1,2,2,1] padded by"
        + " [0, 0, 1, 2, 3, 4, 0, 0]", error(pad(false, new int[] {1, 5, 8, 1}, 0, 0, 1, 2, 3, 4, 0, 0)));
  }

  @Test
  void pad_with_negative_padding_is_refused() {
    assertEquals("m.tflite: operator #0 (PAD) has a negative padding (-1, 0) in dimension 1",
        error(pad(false, new int[] {1, 1, 2, 1}, 0, 0, -1, 0, 0, 0, 0, 0)));
  }

  @Test
  void pad_with_computed_paddings_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 2, 2, 1);
    int p = m.tensor("p", TestModel.INT32, 4, 2);
    int y = m.tensor("y", FLOAT32, 1, 2, 2, 1);
    m.op(PAD, new int[] {x, p}, new int[] {y});
    m.io(new int[] {x, p}, new int[] {y});
    assertEquals("m.tflite: operator #0 (PAD) reads its paddings from tensor 'p' (index 1), which is not a constant;"
        + " Kiln needs constant paddings", error(m));
  }

  private static TestModel mean(int... axes) {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4, 4, 8);
    int a = m.int32s("axes", new int[] {axes.length}, axes);
    int y = m.tensor("y", FLOAT32, 1, 1, 1, 8);
    m.op(MEAN, new int[] {x, a}, new int[] {y}, 27, new Obj().bool(0, true));
    return m.io(new int[] {x}, new int[] {y});
  }

  @Test
  void mean_axes_are_made_non_negative_sorted_and_unique_and_stay_an_input() throws Exception {
    Op op = read(mean(2, -3, 1)).ops().get(0);
    Options.Mean o = op.options(Options.Mean.class);
    assertArrayEquals(new int[] {1, 2}, o.axes());
    assertEquals(true, o.keepDims());
    assertEquals("axes", op.input(1).name());
  }

  @Test
  void mean_over_an_axis_outside_the_rank_is_refused() {
    assertEquals("m.tflite: operator #0 (MEAN) reduces axis 4, outside the input's rank 4", error(mean(1, 4)));
  }

  @Test
  void the_builtin_code_is_the_larger_of_the_two_code_fields() throws Exception {
    // Old writers fill only deprecated_builtin_code; ADD (0) may have neither field.
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 1, 4);
    int y = m.tensor("y", FLOAT32, 1, 4);
    int z = m.tensor("z", FLOAT32, 1, 4);
    m.op(RELU, new int[] {x}, new int[] {y});
    m.opcodeOf(0).remove(3);
    m.op(ADD, new int[] {y, x}, new int[] {z});
    m.opcodeOf(1).remove(0).remove(3);
    m.io(new int[] {x}, new int[] {z});
    Graph g = read(m);
    assertEquals(OpType.RELU, g.ops().get(0).type());
    assertEquals(OpType.ADD, g.ops().get(1).type());
  }

  @Test
  void an_unsupported_operator_is_named_with_its_index_tensors_the_other_unsupported_ones_and_the_supported_list() {
    TestModel m = new TestModel();
    int a = m.tensor("a", FLOAT32, 4);
    int b = m.tensor("b", FLOAT32, 4);
    int c = m.tensor("c", FLOAT32, 4);
    int d = m.tensor("d", FLOAT32, 4);
    int e = m.tensor("e", FLOAT32, 4);
    m.op(RELU, new int[] {a}, new int[] {b});
    m.op(BUCKETIZE, new int[] {b}, new int[] {c}); // builtin_code 147 with deprecated_builtin_code 127 (placeholder)
    m.op(TOPK_V2, new int[] {c}, new int[] {d});
    m.op(TOPK_V2, new int[] {d}, new int[] {e});
    m.io(new int[] {a}, new int[] {e});
    UnsupportedOperatorException ex = assertThrows(UnsupportedOperatorException.class, () -> read(m));
    assertEquals("m.tflite: operator #1 BUCKETIZE (builtin code 147) is not supported by Kiln: inputs ['b'] -> outputs ['c']."
        + " The model also uses these unsupported operators: TOPK_V2 x2. Supported operators: " + SUPPORTED + ".",
        ex.getMessage());
    assertEquals("BUCKETIZE", ex.operator());
    assertEquals(1, ex.operatorIndex());
  }

  @Test
  void a_builtin_code_newer_than_the_name_table_is_reported_by_number() {
    UnsupportedOperatorException ex = assertThrows(UnsupportedOperatorException.class, () -> read(unary(250, 0, null)));
    assertEquals("m.tflite: operator #0 code 250 (builtin code 250) is not supported by Kiln: inputs ['x'] -> outputs ['y']."
        + " Supported operators: " + SUPPORTED + ".", ex.getMessage());
  }

  @Test
  void a_custom_operator_is_named_by_its_custom_code() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.customOp("FlexAddV2", new int[] {x, -1}, new int[] {y});
    m.io(new int[] {x}, new int[] {y});
    UnsupportedOperatorException ex = assertThrows(UnsupportedOperatorException.class, () -> read(m));
    assertEquals("m.tflite: operator #0 is the custom operator 'FlexAddV2', which Kiln does not support (Flex operators"
        + " are TensorFlow ops kept by SELECT_TF_OPS; convert with TFLite builtins only): inputs ['x', (none)] -> outputs"
        + " ['y']. Supported operators: " + SUPPORTED + ".", ex.getMessage());
    assertEquals("FlexAddV2", ex.operator());
  }

  @Test
  void unsupported_operators_are_reported_before_tensor_problems() {
    TestModel m = new TestModel();
    int x = m.tensor("x", 5, 4); // STRING, as custom text ops use
    int y = m.tensor("y", FLOAT32, 4);
    m.customOp("TextOp", new int[] {x}, new int[] {y});
    m.io(new int[] {x}, new int[] {y});
    assertThrows(UnsupportedOperatorException.class, () -> read(m));
  }

  @Test
  void a_while_without_options_is_refused_naming_the_subgraphs_it_lacks() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(119, new int[] {x}, new int[] {y});
    m.io(new int[] {x}, new int[] {y}).extraSubgraph().extraSubgraph();
    assertEquals("m.tflite: operator #0 (WHILE) carries builtin options of union type 0, expected 93 (WhileOptions), which"
        + " names the subgraphs it runs", error(m));
  }

  @Test
  void an_operator_reading_a_tensor_nobody_writes_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int ghost = m.tensor("ghost", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(ADD, new int[] {x, ghost}, new int[] {y});
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: operator #0 (ADD) reads tensor 'ghost' (index 1), which is not a model input, not a constant"
        + " and not written by an earlier operator", error(m));
  }

  @Test
  void an_operator_writing_a_model_input_or_a_written_tensor_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    m.op(RELU, new int[] {x}, new int[] {x});
    m.io(new int[] {x}, new int[] {x});
    assertEquals("m.tflite: operator #0 (RELU) writes tensor 'x' (index 0), which is a model input", error(m));

    TestModel twice = new TestModel();
    int a = twice.tensor("a", FLOAT32, 4);
    int b = twice.tensor("b", FLOAT32, 4);
    twice.op(RELU, new int[] {a}, new int[] {b});
    twice.op(RELU, new int[] {a}, new int[] {b});
    twice.io(new int[] {a}, new int[] {b});
    assertEquals("m.tflite: operator #1 (RELU) writes tensor 'b' (index 1), which is already written by operator #0 (RELU)",
        error(twice));
  }

  @Test
  void a_model_output_nobody_writes_is_refused() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: model output tensor 'y' (index 1) is never written by any operator", error(m));
  }

  @Test
  void indices_out_of_range_are_corruption() {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    int y = m.tensor("y", FLOAT32, 4);
    m.op(RELU, new int[] {x}, new int[] {7});
    m.io(new int[] {x}, new int[] {y});
    assertEquals("m.tflite: truncated or corrupt: operator #0 (RELU) output 0 refers to tensor 7, but the subgraph has 2"
        + " tensors", error(m));

    TestModel badCode = unary(RELU, 0, null);
    Obj op = badCode.op(RELU, new int[] {1}, new int[] {1});
    op.i32(0, 9);
    assertEquals("m.tflite: truncated or corrupt: operator #1 refers to operator code 9, but the model lists only 2"
        + " operator codes", error(badCode));

    TestModel badIo = unary(RELU, 0, null).io(new int[] {5}, new int[] {1});
    assertEquals("m.tflite: truncated or corrupt: model inputs entry 0 refers to tensor 5, but the subgraph has 2 tensors",
        error(badIo));
  }

  @Test
  void an_empty_model_with_io_only_is_a_valid_graph() throws Exception {
    TestModel m = new TestModel();
    int x = m.tensor("x", FLOAT32, 4);
    m.io(new int[] {x}, new int[] {x});
    Graph g = read(m);
    assertSame(g.inputs().get(0), g.outputs().get(0));
    assertEquals(0, g.ops().size());
  }
}
