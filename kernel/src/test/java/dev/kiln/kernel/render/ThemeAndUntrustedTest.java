package dev.kiln.kernel.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.Timing;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.kernel.display.Renderers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Displays that read in any JupyterLab theme and in untrusted notebooks (issue 14): text never
 * sits on a fixed background without its own text colour, themed colours are JupyterLab's
 * variables with light fallbacks, charts are HTML (never inline SVG, which Lab strips untrusted),
 * memory-plan labels tell buffers apart, timing strips stay in their box, doubles read short.
 */
class ThemeAndUntrustedTest {
  static Model model;
  static Build aot;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    Path dir = Path.of(System.getProperty("kiln.shared", "../../shared"), "models/digits_cnn_int8").toAbsolutePath().normalize();
    model = Kiln.load(dir.resolve("digits_cnn_int8.tflite"));
    aot = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    image = Tensor.load(dir.resolve("sample0_in0.npy"));
    reference = Tensor.load(dir.resolve("sample0_out0.npy"));
  }

  private static List<String> htmls() {
    List<String> out = new ArrayList<>();
    for (Object v : List.of(model, aot, aot.memoryPlan(), image, reference, new KilnException("bad name 'x'; use one of:\n  a\n  b"),
        Show.sideBySide("graph", model.build(Executor.graph()).metadata(), "aot", aot.metadata()),
        Show.table("a", "b").row("x", 0.1 + 0.2), timing(new double[] {10e-6, 11e-6, 12e-6}))) {
      out.add(KilnRenderersTest.html(Renderers.render(v)));
    }
    return out;
  }

  static Timing.Result timing(double[] seconds) {
    return new Timing.Result("aot", 1, seconds);
  }

  /** Elements with text of their own whose style sets a fixed (hex or rgb) background. */
  @Test void textOnAFixedBackgroundAlwaysHasItsOwnColour() {
    Pattern styled = Pattern.compile("style=\"([^\"]*)\"[^>]*>([^<]+)<");
    for (String html : htmls()) {
      assertFalse(html.contains("<svg"), "no inline SVG in HTML");
      Matcher m = styled.matcher(html);
      while (m.find()) {
        String style = m.group(1);
        boolean fixedBackground = Pattern.compile("background: (#|rgb\\()").matcher(style).find()
            && !style.contains("rgba(") && !style.contains("var(--jp-");
        if (fixedBackground && !m.group(2).isBlank()) {
          assertTrue(style.matches(".*(^|; )color: .*"), "text '" + m.group(2) + "' on a fixed background without its own colour: " + style);
        }
      }
    }
  }

  @Test void surfacesUseJupyterLabVariablesWithLightFallbacksAfterANeutralDeclaration() {
    String html = KilnRenderersTest.html(Renderers.render(model));
    Matcher th = Pattern.compile("<th style=\"([^\"]*)\"").matcher(html);
    assertTrue(th.find());
    String style = th.group(1);
    int neutral = style.indexOf("background: rgba(");
    int themed = style.indexOf("background: var(--jp-layout-color2, #");
    assertTrue(neutral >= 0 && themed > neutral, "the neutral background first, the themed one second: " + style);
    assertTrue(style.contains("color: var(--jp-ui-font-color1, #"), "the header's text colour comes with its background: " + style);
    html = KilnRenderersTest.html(Renderers.render(aot));
    assertTrue(html.contains("class=\"kiln-code\""), "code chips");
    String chip = html.substring(html.indexOf("class=\"kiln-code\""));
    assertTrue(chip.substring(0, chip.indexOf('>')).contains("var(--jp-layout-color2"), chip);
  }

  @Test void memoryPlanLabelsAreTheDistinctivePartOfTfliteNames() {
    List<String> names = List.of(
        "functional_1/activation/Relu;functional_1/batch_normalization/FusedBatchNormV3;functional_1/conv2d/BiasAdd",
        "functional_1/activation_1/Relu;functional_1/batch_normalization_1/FusedBatchNormV3",
        "functional_1/batch_normalization_1/FusedBatchNormV3;functional_1/depthwise_conv2d/depthwise",
        "functional_1/average_pooling2d/AvgPool", "functional_1/flatten/Reshape", "functional_1/dense/BiasAdd",
        "functional_1/dense/MatMul");
    assertEquals(List.of("activation/Relu", "activation_1/Relu", "batch_normalization_1/FusedBatchNormV3", "average_pooling2d/AvgPool",
        "flatten/Reshape", "dense/BiasAdd", "dense/MatMul"), MemoryPlanSvg.shortNames(names));
    // the C names the compiler gives the plan: the same, with _ for / and ;
    List<String> cNames = names.stream().map(n -> n.replaceAll("[/;]", "_")).toList();
    assertEquals(List.of("activation_Relu", "activation_1_Relu", "batch_normalization_1_FusedBatchNormV3", "average_pooling2d_AvgPool",
        "flatten_Reshape", "dense_BiasAdd", "dense_MatMul"), MemoryPlanSvg.shortNames(cNames));
    // kws's real buffer names (C names, fused, cut here): most share functional_1_activation_, all functional_1_
    List<String> kws = List.of("functional_1_activation_Relu_functional_1_batch_normalization_FusedBatchNormV3_functional_1_conv2d",
        "functional_1_activation_1_Relu_functional_1_batch_normalization_1_FusedBatchNormV3_functional_1_depthwise_conv2d",
        "functional_1_activation_2_Relu_functional_1_batch_normalization_2_FusedBatchNormV3",
        "functional_1_activation_3_Relu_functional_1_batch_normalization_3_FusedBatchNormV3",
        "functional_1_average_pooling2d_AvgPool", "functional_1_dense_BiasAdd");
    assertEquals(List.of("activation_Relu", "activation_1_Relu", "activation_2_Relu", "activation_3_Relu", "average_pooling2d_AvgPool",
        "dense_BiasAdd"), MemoryPlanSvg.shortNames(kws));
    // mlperf_ad's: every name starts functional_1_re_lu_, but the scope that comes back is functional_1_
    List<String> ad = List.of("functional_1_re_lu_Relu_functional_1_dense_BiasAdd", "functional_1_re_lu_1_Relu_functional_1_dense_1_BiasAdd",
        "functional_1_re_lu_2_Relu_functional_1_dense_2_BiasAdd");
    assertEquals(List.of("re_lu_Relu", "re_lu_1_Relu", "re_lu_2_Relu"), MemoryPlanSvg.shortNames(ad));
    assertEquals(List.of("input:0"), MemoryPlanSvg.shortNames(List.of("input:0")));
    assertEquals(List.of("a", "b"), MemoryPlanSvg.shortNames(List.of("m/a", "m/b")));
    assertEquals(List.of("x #1", "x #2", "other"), MemoryPlanSvg.shortNames(List.of("m_x", "m_x", "other")));

    MemoryPlan plan = MemoryPlan.plan(List.of(new MemoryPlan.Buffer(names.get(0), 4000, 0, 1),
        new MemoryPlan.Buffer(names.get(1), 4000, 1, 2), new MemoryPlan.Buffer(names.get(3), 4000, 2, 3)))
        .withOpNames(List.of("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "SOFTMAX"));
    String html = KilnRenderersTest.html(Renderers.render(plan));
    assertTrue(html.contains(">activation_1/Relu<") && html.contains(">average_pooling2d/AvgPool<"), "short labels on the bars: " + html);
    assertTrue(html.contains("title=\"" + dev.kiln.kernel.render.Html.escape(names.get(1)) + ": 4,000 B"),
        "the full name on hover: " + html);
    assertTrue(html.contains("made by op 1 DEPTHWISE_CONV_2D"), "the producing operator on hover: " + html);
    assertTrue(html.contains(">DEPTHWISE_CONV_2D #1<"), "the placements name the operators: " + html);
  }

  @Test void aTimingStripKeepsItsMedianLabelInsideAndItsAxisAtZeroOrAbove() {
    for (double[] s : new double[][] {{1e-6, 1e-6, 1e-6}, {1e-6, 1e-6, 50e-6}, {50e-6, 50e-6, 1e-6}, {3e-6, 4e-6, 5e-6}}) {
      Timing.Result r = timing(s);
      Svg chart = TimingView.chart(r);
      String svg = chart.end();
      Matcher ticks = Pattern.compile(">(-?[0-9.]+) us</text>").matcher(svg);
      while (ticks.find()) assertTrue(Double.parseDouble(ticks.group(1)) >= 0, "axis below zero: " + svg);
      Matcher median = Pattern.compile("<text x=\"([0-9.-]+)\" y=\"13\" text-anchor=\"(\\w+)\"[^>]*>(median [^<]*)</text>").matcher(svg);
      assertTrue(median.find(), svg);
      double x = Double.parseDouble(median.group(1));
      double w = median.group(3).length() * 6.6;
      double from = switch (median.group(2)) {
        case "start" -> x;
        case "end" -> x - w;
        default -> x - w / 2;
      };
      assertTrue(from >= 0 && from + w <= chart.width(), "median label " + median.group(3) + " cut at " + from + ".." + (from + w));
    }
  }

  @Test void gridShadesCarryTheBetterOfBlackAndWhiteText() {
    org.junit.jupiter.api.Assertions.assertTrue(TensorView.darkTextReads(143, 163, 255), "light blue: dark text (white read 2.4:1)");
    assertFalse(TensorView.darkTextReads(20, 40, 120), "a dark blue: white text");
    assertTrue(TensorView.darkTextReads(255, 255, 255));
  }

  @Test void showTableFormatsDoublesAndAGridTensorsArgmaxIsCoordinates() {
    assertEquals("0.3", Show.table("x").row(0.1 + 0.2).get(0, "x"));
    assertEquals("12.3457", Show.number(12.345678));
    assertEquals("3", Show.number(3.0));
    assertEquals("1.235e-07", Show.number(1.2345e-7));
    assertEquals("-0.5", Show.number(-0.5f));
    assertEquals("NaN", Show.number(Double.NaN));
    assertEquals("7", Show.table("x").row(7).get(0, "x"), "integers as they are");
    assertEquals(" = (row 1, col 5)", TensorView.coordinates(new int[] {1, 8, 8, 1}, 13));
    assertEquals(" = [1, 2, 3]", TensorView.coordinates(new int[] {2, 100, 4}, 1 * 400 + 2 * 4 + 3));
    assertEquals("", TensorView.coordinates(new int[] {1, 10}, 7));
    String html = KilnRenderersTest.html(Renderers.render(image));
    int a = image.argmax();
    assertTrue(html.contains("argmax " + a + " = (row " + a / 8 + ", col " + a % 8 + ")"), html);
  }
}
