package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernel variant on the Cortex-M4F
 * (mps2-an386: __ARM_FEATURE_DSP, so the SXTB16/SMLAD paths of kiln_nn_conv.c and kiln_nn_util.h)
 * and on the Cortex-M3 (mps2-an385: no DSP extension, the portable C the host also runs), against
 * the same TFLite reference outputs, bit-exact: the op fixtures of src/test/resources/ops and
 * resources/nn (odd channel and pixel counts, padding, strides, dilation, groups, per-tensor and
 * per-channel scales, a multiplier above one, batches) and the shared int8 models (one sample each);
 * and onnxruntime's requantization of fused QDQ groups, whose channels without an exact integer
 * rescale run in float32 (kiln_float_rescale: a VMUL on the M4F, soft-float on the M3), against
 * onnxruntime's outputs (qdq_float_requant).
 */
class QemuInt8KernelsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll static void needsQemu() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds qemu-system-arm and gcc-arm-none-eabi)");
  }

  static List<Case> int8Cases() {
    List<Case> out = new ArrayList<>();
    for (String folder : List.of("ops", "nn")) {
      for (Case c : fixtures(Path.of("src/test/resources", folder).toAbsolutePath())) {
        String n = c.name();
        if (n.endsWith("_int8") && (n.startsWith("conv") || n.startsWith("dwconv") || n.startsWith("fc"))) out.add(c);
      }
    }
    for (String m : List.of("digits_cnn_int8", "mlperf_kws_int8", "mlperf_vww_int8", "mlperf_ic_int8", "mlperf_ad_int8")) {
      out.add(ReferenceModels.shared("tflite", m));
    }
    out.addAll(ReferenceModels.onnxFixtures().stream().filter(c -> c.name().equals("qdq_float_requant")).toList());
    return out;
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    List<Case> cases = int8Cases();
    assertTrue(cases.size() >= 20, "int8 conv / depthwise / FC fixtures found: " + cases.size());
    for (String board : List.of("mps2-an386", "mps2-an385")) {
      for (Case c : cases) out.add(Arguments.of(c, board));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void int8KernelsMatchTheReferenceWithAndWithoutTheDspExtension(Case c, String board) {
    List<Integer> samples = c.folder().startsWith(ReferenceModels.sharedRoot()) ? List.of(c.samples().get(0)) : c.samples();
    QemuDeviceTest.assertRunsOnBoard(c, Executor.aot(), Device.qemu(board), samples);
  }

  private static List<Case> fixtures(Path root) {
    List<Case> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        Path m = d.resolve("manifest.json");
        if (!Files.exists(m)) continue;
        JsonNode manifest = JSON.readTree(m.toFile());
        if (manifest.path("format").asText("tflite").equals("tflite")) out.add(new Case(d.getFileName().toString(), d, manifest));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
