package dev.kiln.frontend.tflite;

import static dev.kiln.frontend.tflite.ManifestChecks.floats;
import static dev.kiln.frontend.tflite.ManifestChecks.ints;
import static dev.kiln.frontend.tflite.ManifestChecks.longs;
import static dev.kiln.frontend.tflite.ManifestChecks.manifest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.Activation;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TensorFlow-made fixtures under test resources: {@code ops/*} (one op each, with a manifest
 * listing every tensor and the options as the converter wrote them) must read back exactly;
 * {@code bad/*} must each be refused for the reason its README gives.
 */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class FixtureModelsTest {

  private static Path resources(String folder) {
    try {
      return Path.of(FixtureModelsTest.class.getResource("/" + folder).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> opFixtures() {
    try (Stream<Path> dirs = Files.list(resources("ops"))) {
      List<String> names = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted()
          .collect(Collectors.toList());
      assertTrue(names.size() >= 80, "op fixtures found: " + names.size());
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path model(String fixture) { return resources("ops").resolve(fixture).resolve("model.tflite"); }

  private static Graph read(String fixture) throws ModelFormatException { return TfliteReader.read(model(fixture)); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("opFixtures")
  void io_and_every_tensor_match_the_manifest(String fixture) throws Exception {
    Graph g = read(fixture);
    JsonNode m = manifest(model(fixture));
    ManifestChecks.assertIo(m.get("inputs"), g.inputs());
    ManifestChecks.assertIo(m.get("outputs"), g.outputs());
    JsonNode tensors = m.get("tensors");
    assertEquals(tensors.size(), g.tensors().size());
    for (JsonNode e : tensors) {
      Tensor t = g.tensors().get(e.get("index").asInt());
      assertEquals(e.get("name").asText(), t.name());
      assertArrayEquals(ints(e.get("shape")), t.shape(), t.name());
      assertEquals(e.get("dtype").asText(), t.dtype().numpyName(), t.name());
      assertEquals(e.get("const").asBoolean(), t.isConstant(), t.name());
      JsonNode q = e.get("quant");
      Quantization expected = q == null ? Quantization.NONE : floats(q.get("scale")).length == 1
          ? Quantization.perTensor(floats(q.get("scale"))[0], longs(q.get("zero_point"))[0])
          : Quantization.perAxis(floats(q.get("scale")), longs(q.get("zero_point")), q.get("quantized_dimension").asInt());
      assertEquals(expected, t.quantization(), t.name());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("opFixtures")
  void operators_their_tensors_and_options_match_the_manifest(String fixture) throws Exception {
    Graph g = read(fixture);
    JsonNode details = manifest(model(fixture)).get("ops").get("details");
    assertEquals(details.size(), g.ops().size());
    for (int k = 0; k < details.size(); k++) {
      JsonNode d = details.get(k);
      Op op = g.ops().get(k);
      assertEquals(d.get("op").asText(), op.type().name());
      int[] in = ints(d.get("inputs"));
      assertEquals(in.length, op.inputs().size());
      for (int i = 0; i < in.length; i++) {
        if (in[i] < 0) assertNull(op.input(i));
        else assertEquals(in[i], op.input(i).id());
      }
      assertArrayEquals(ints(d.get("outputs")), op.outputs().stream().mapToInt(Tensor::id).toArray());
      assertOptions(d.get("options"), op);
    }
  }

  /** The converter's option values against the ir record (padding is checked by the pinned tests). */
  private static void assertOptions(JsonNode o, Op op) {
    Options options = op.options();
    if (options instanceof Options.Conv c) {
      assertEquals(o.get("stride_h").asInt(), c.strideH());
      assertEquals(o.get("stride_w").asInt(), c.strideW());
      assertEquals(o.get("dilation_h_factor").asInt(), c.dilationH());
      assertEquals(o.get("dilation_w_factor").asInt(), c.dilationW());
      assertEquals(activation(o), c.activation());
      if (o.has("depth_multiplier")) assertEquals(o.get("depth_multiplier").asInt(), c.depthMultiplier());
      if (o.get("padding").asText().equals("VALID")) assertEquals(Options.Padding.ZERO, c.padding());
    } else if (options instanceof Options.Pool p) {
      assertEquals(o.get("filter_height").asInt(), p.filterH());
      assertEquals(o.get("filter_width").asInt(), p.filterW());
      assertEquals(o.get("stride_h").asInt(), p.strideH());
      assertEquals(o.get("stride_w").asInt(), p.strideW());
      assertEquals(activation(o), p.activation());
      if (o.get("padding").asText().equals("VALID")) assertEquals(Options.Padding.ZERO, p.padding());
    } else if (options instanceof Options.FullyConnected f) {
      assertEquals(new Options.FullyConnected(activation(o), o.get("keep_num_dims").asBoolean()), f);
    } else if (options instanceof Options.Softmax s) {
      assertEquals((float) o.get("beta").asDouble(), s.beta());
    } else if (options instanceof Options.Elementwise e) {
      assertEquals(activation(o), e.activation());
    } else if (options instanceof Options.Concat c) {
      int axis = o.get("axis").asInt();
      assertEquals(axis < 0 ? axis + op.output().rank() : axis, c.axis());
      assertEquals(activation(o), c.activation());
    } else if (options instanceof Options.Mean m) {
      assertEquals(o.get("keep_dims").asBoolean(), m.keepDims());
    } else if (!(options instanceof Options.Pad)) {
      assertEquals(new Options.None(), options);
    }
  }

  private static Activation activation(JsonNode o) {
    return Activation.valueOf(o.get("fused_activation_function").asText());
  }

  @Test
  void conv_same_s23_k43_puts_the_odd_padding_row_at_the_bottom() throws Exception {
    // README: SAME padding of 9x10 -> 5x4: rows total 3 (top 1, bottom 2), cols total 2 (1 and 1).
    for (String fixture : List.of("conv_same_s23_k43_int8", "conv_same_s23_k43_float")) {
      Options.Conv c = read(fixture).ops().get(0).options(Options.Conv.class);
      assertEquals(new Options.Conv(2, 3, 1, 1, new Options.Padding(1, 1, 2, 1), 1, Activation.NONE), c);
    }
  }

  @Test
  void depthwise_multiplier_2_is_derived_from_3_to_6_channels() throws Exception {
    Options.Conv c = read("dwconv_dm2_same_s2_relu6_int8").ops().get(0).options(Options.Conv.class);
    assertEquals(2, c.depthMultiplier());
    assertEquals(Activation.RELU6, c.activation());
  }

  @Test
  void pad_fixture_pads_h_by_1_2_and_w_by_2_1() throws Exception {
    for (String fixture : List.of("pad_int8", "pad_float")) {
      Op op = read(fixture).ops().get(0);
      Options.Pad p = op.options(Options.Pad.class);
      assertArrayEquals(new int[] {0, 1, 2, 0}, p.before());
      assertArrayEquals(new int[] {0, 2, 1, 0}, p.after());
      assertTrue(op.input(1).isConstant());
    }
  }

  @Test
  void mean_fixtures_reduce_h_and_w_or_axis_2() throws Exception {
    Options.Mean hw = read("mean_hw_keepdims_int8").ops().get(0).options(Options.Mean.class);
    assertArrayEquals(new int[] {1, 2}, hw.axes());
    assertTrue(hw.keepDims());
    Options.Mean axis2 = read("mean_axis2_float").ops().get(0).options(Options.Mean.class);
    assertArrayEquals(new int[] {2}, axis2.axes());
  }

  @Test
  void concat_last_stores_axis_minus_1_and_becomes_the_last_axis() throws Exception {
    Op op = read("concat_last_float").ops().get(0);
    assertEquals(op.output().rank() - 1, op.options(Options.Concat.class).axis());
  }

  @Test
  void fully_connected_without_bias_has_an_absent_third_input() throws Exception {
    Op op = read("fc_nobias_relu_int8").ops().get(0);
    assertEquals(3, op.inputs().size());
    assertNull(op.input(2));
  }

  @Test
  void inputs_named_input_colon_0_and_input_underscore_0_get_distinct_c_names() throws Exception {
    Graph g = read("name_collision_int8");
    Tensor colon = g.inputs().get(0);
    Tensor underscore = g.inputs().get(1);
    assertEquals("input:0", colon.name());
    assertEquals("input_0", underscore.name());
    assertNotEquals(colon.cName(), underscore.cName());
    assertSame(colon, g.find("input:0").orElseThrow());
    assertSame(underscore, g.find("input_0").orElseThrow());
    assertSame(colon, g.find(colon.cName()).orElseThrow());
  }

  private static String badMessage(String file) {
    Path path = resources("bad").resolve(file);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> TfliteReader.read(path));
    String prefix = path + ": ";
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    return e.getMessage().substring(prefix.length());
  }

  @Test
  void bad_unsupported_op_names_bucketize() {
    Path path = resources("bad").resolve("unsupported_op.tflite");
    UnsupportedOperatorException e = assertThrows(UnsupportedOperatorException.class, () -> TfliteReader.read(path));
    assertEquals(path + ": operator #0 BUCKETIZE (builtin code 147) is not supported by Kiln: inputs ['x'] -> outputs ['Identity']."
        + " Supported operators: " + OperatorMappingTest.SUPPORTED + ".", e.getMessage());
    assertEquals("BUCKETIZE", e.operator());
  }

  // family: control flow (ctrl-flow): these two files were refused before Kiln read several subgraphs
  @Test
  void two_subgraphs_reads_the_while_loop_with_its_cond_and_body() throws Exception {
    Graph g = TfliteReader.read(resources("bad").resolve("two_subgraphs.tflite"));
    Op loop = g.ops().stream().filter(op -> op.type() == dev.kiln.ir.OpType.WHILE).findFirst().orElseThrow();
    Options.Subgraphs s = loop.options(Options.Subgraphs.class);
    assertEquals(List.of(1, 2), s.indices());
    assertEquals(1, s.graph(0).outputs().size(), "cond returns one bool");
    assertEquals(loop.inputs().size(), s.graph(1).outputs().size(), "body returns every loop value");
  }

  @Test
  void extra_subgraph_nobody_runs_is_ignored_as_tflite_does() throws Exception {
    Graph g = TfliteReader.read(resources("bad").resolve("extra_subgraph.tflite"));
    assertEquals(List.of(dev.kiln.ir.OpType.RELU), g.ops().stream().map(Op::type).collect(Collectors.toList()));
    assertEquals(List.of("subgraph 1 (1 operators) is not run by subgraph 0 (another signature's entry?); Kiln compiles"
        + " subgraph 0 and what it runs, as TFLite's default signature does"), g.notes(), "kiln info says so");
  }

  @Test
  void bad_dynamic_shape_names_the_tensor_and_dimension() {
    assertEquals("tensor 'x' (index 0) has a dynamic dimension 1 (shape signature [1,-1,4], shape [1,1,4]); Kiln compiles"
        + " static shapes only, with at most a dynamic batch of 1", badMessage("dynamic_shape.tflite"));
  }

  @Test
  void bad_truncated_names_the_field_and_offsets() {
    assertEquals("truncated or corrupt: Model.operator_codes at offset 52 points to offset 624, past the end of the file"
        + " (328 bytes)", badMessage("truncated.tflite"));
  }

  @Test
  void bad_identifier_shows_the_bytes_found() {
    assertEquals("not a TFLite model: bytes 4..7 are 58 58 58 58 (\"XXXX\"), but a .tflite file has the identifier TFL3 at"
        + " byte 4 (the file starts with 1c 00 00 00 58 58 58 58 (\"....XXXX\"))", badMessage("bad_identifier.tflite"));
  }
}
