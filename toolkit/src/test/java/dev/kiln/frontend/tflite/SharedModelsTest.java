package dev.kiln.frontend.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every .tflite reference model read and compared, field by field, with its manifest.json. */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class SharedModelsTest {
  static List<Path> models() {
    List<Path> files = SharedModels.tfliteFiles();
    assertEquals(10, files.size(), "reference .tflite models under " + SharedModels.root());
    return files;
  }

  private static JsonNode manifest(Path model) throws Exception {
    return ManifestChecks.manifest(model);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void graph_is_named_after_the_file_and_remembers_its_path(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    String file = model.getFileName().toString();
    assertEquals(file.substring(0, file.length() - ".tflite".length()), g.name());
    assertEquals(model.toString(), g.source());
    assertEquals(manifest(model).get("file").asText(), file);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void inputs_and_outputs_match_the_manifest_in_order(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    JsonNode m = manifest(model);
    ManifestChecks.assertIo(m.get("inputs"), g.inputs());
    ManifestChecks.assertIo(m.get("outputs"), g.outputs());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void operator_sequence_matches_the_manifest(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    List<String> expected = new ArrayList<>();
    manifest(model).get("ops").get("sequence").forEach(n -> expected.add(n.asText()));
    assertEquals(expected, g.ops().stream().map(op -> op.type().name()).collect(Collectors.toList()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void tensor_counts_match_the_manifest(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    JsonNode t = manifest(model).get("tensors");
    assertEquals(t.get("count").asInt(), g.tensors().size());
    assertEquals(t.get("constant").asInt(), g.tensors().stream().filter(Tensor::isConstant).count());
    assertEquals(t.get("activation").asInt(), g.tensors().stream().filter(x -> !x.isConstant()).count());
    assertEquals(t.get("per_channel_quantized_constants").asInt(),
        g.tensors().stream().filter(x -> x.isConstant() && x.quantization().isPerChannel()).count());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void weight_bytes_match_the_manifest_and_every_constant_is_used(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    assertEquals(manifest(model).get("tensors").get("weights_bytes").asLong(), g.weightBytes());
    long allConstantBytes = g.tensors().stream().filter(Tensor::isConstant).mapToLong(Tensor::byteSize).sum();
    assertEquals(allConstantBytes, g.weightBytes(), "no unreferenced constants in the reference models");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void signature_keys_become_aliases_of_their_tensors(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    JsonNode signatures = manifest(model).get("signatures");
    int expectedAliases = 0;
    for (JsonNode sig : iterable(signatures.elements())) {
      for (String side : new String[] {"inputs", "outputs"}) {
        for (Map.Entry<String, JsonNode> e : iterable(sig.get(side).fields())) {
          Tensor named = g.find(e.getValue().asText()).orElseThrow();
          assertEquals(List.of(e.getKey()), named.aliases());
          assertSame(named, g.find(e.getKey()).orElseThrow());
          expectedAliases++;
        }
      }
    }
    assertEquals(expectedAliases, g.tensors().stream().mapToInt(t -> t.aliases().size()).sum());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void io_tensors_have_c_names_found_by_either_spelling(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    for (Tensor t : g.inputs()) {
      assertEquals(t.name().replace(':', '_'), t.cName());
      assertSame(t, g.find(t.cName()).orElseThrow());
      assertSame(t, g.find(t.name()).orElseThrow());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void every_constant_has_exactly_the_bytes_its_shape_needs(Path model) throws Exception {
    Graph g = TfliteReader.read(model);
    for (Tensor t : g.tensors()) {
      if (t.isConstant()) assertEquals(t.byteSize(), t.data().length, t.name());
    }
  }

  @Test
  void digits_input_predict_images_0_gets_the_c_name_predict_images_0() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("digits_cnn_int8"));
    Tensor in = g.inputs().get(0);
    assertEquals("predict_images:0", in.name());
    assertEquals("predict_images_0", in.cName());
    assertEquals(List.of("images"), in.aliases());
    assertEquals("StatefulPartitionedCall_0", g.outputs().get(0).cName());
    assertEquals(List.of("probs"), g.outputs().get(0).aliases());
  }

  @Test
  void digits_int8_convolutions_use_same_padding_and_per_channel_weights_along_axis_0() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("digits_cnn_int8"));
    Op conv = g.ops().get(0);
    assertEquals(new Options.Conv(1, 1, 1, 1, new Options.Padding(1, 1, 1, 1), 1, Activation.RELU), conv.options());
    Tensor weights = conv.input(1);
    assertEquals(DType.INT8, weights.dtype());
    assertTrue(weights.quantization().isPerChannel());
    assertEquals(0, weights.quantization().axis());
    assertEquals(weights.dim(0), weights.quantization().count());
    Tensor bias = conv.input(2);
    assertEquals(DType.INT32, bias.dtype());
    assertEquals(weights.dim(0), bias.quantization().count());
    Op pool = g.ops().get(1);
    assertEquals(new Options.Pool(2, 2, 2, 2, Options.Padding.ZERO, Activation.NONE), pool.options());
    assertEquals(new Options.Softmax(1.0f), g.ops().get(6).options());
  }

  @Test
  void kws_first_convolution_gets_tflites_asymmetric_same_padding() throws Exception {
    // 49x10 input, 10x4 filter, stride 2 -> 25x5 output: rows 9 = 4 before + 5 after, columns 1 + 1.
    Graph g = TfliteReader.read(SharedModels.model("mlperf_kws_int8"));
    Op conv = g.ops().get(0);
    assertArrayEquals(new int[] {64, 10, 4, 1}, conv.input(1).shape());
    assertEquals(new Options.Conv(2, 2, 1, 1, new Options.Padding(4, 1, 5, 1), 1, Activation.RELU), conv.options());
  }

  @Test
  void kws_depthwise_weights_are_per_channel_along_axis_3_with_multiplier_1() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("mlperf_kws_int8"));
    Op dw = g.ops().get(1);
    assertEquals(OpType.DEPTHWISE_CONV_2D, dw.type());
    assertEquals(1, dw.options(Options.Conv.class).depthMultiplier());
    assertEquals(3, dw.input(1).quantization().axis());
    assertEquals(dw.input(1).dim(3), dw.input(1).quantization().count());
  }

  @Test
  void hybrid_kws_float_keeps_int8_conv_weights_beside_float_activations() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("mlperf_kws_float"));
    List<Op> convs = g.ops().stream().filter(op -> op.type() == OpType.CONV_2D).collect(Collectors.toList());
    assertEquals(5, convs.size());
    for (Op conv : convs) {
      assertEquals(DType.FLOAT32, conv.input(0).dtype());
      assertEquals(DType.INT8, conv.input(1).dtype());
      assertFalse(conv.input(1).quantization().isPerChannel());
      assertEquals(0, conv.input(1).quantization().zeroPoint());
    }
  }

  @Test
  void float_models_carry_no_quantization_even_though_every_tensor_has_an_empty_table() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("digits_cnn_float"));
    for (Tensor t : g.tensors()) assertFalse(t.quantization().isQuantized(), t.name());
  }

  @Test
  void reshape_shape_constants_stay_inputs_and_count_as_weights() throws Exception {
    Graph g = TfliteReader.read(SharedModels.model("digits_cnn_int8"));
    Op reshape = g.ops().get(3);
    assertEquals(OpType.RESHAPE, reshape.type());
    assertEquals(new Options.None(), reshape.options());
    assertEquals(DType.INT32, reshape.input(1).dtype());
    assertTrue(reshape.input(1).isConstant());
    assertNull(reshape.input(2));
  }

  @Test
  void reading_from_memory_equals_reading_the_file() throws Exception {
    Path file = SharedModels.model("mlperf_vww_int8");
    Graph fromFile = TfliteReader.read(file);
    Graph fromBytes = TfliteReader.read(file.toString(), java.nio.file.Files.readAllBytes(file));
    assertEquals(fromFile.name(), fromBytes.name());
    assertEquals(fromFile.source(), fromBytes.source());
    assertEquals(fromFile.toString(), fromBytes.toString());
    assertEquals(fromFile.weightBytes(), fromBytes.weightBytes());
  }

  private static <T> Iterable<T> iterable(Iterator<T> it) { return () -> it; }
}
