package dev.kiln.kernel.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnDeviceException;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.Timing;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.kernel.display.Renderers;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/**
 * Every Kiln type's display, as the kernel's registry gives it (the provider is found through
 * META-INF/services, as in the kernel): the rich types, always text/plain, HTML and SVG that parse
 * as XML (so every name from a model is escaped), and the facts each display promises.
 */
class KilnRenderersTest {
  static Path dir;
  static Model model;
  static Build aot;
  static Build graph;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    dir = Path.of(System.getProperty("kiln.shared", "../../shared"), "models/digits_cnn_int8").toAbsolutePath().normalize();
    model = Kiln.load(dir.resolve("digits_cnn_int8.tflite"));
    aot = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    graph = model.build(Executor.graph());
    image = Tensor.load(dir.resolve("sample0_in0.npy"));
    reference = Tensor.load(dir.resolve("sample0_out0.npy"));
  }

  @Test void aModelShowsItsInputsAndOutputsWithBothNamesShapesDtypesAndQuantization() {
    MimeBundle b = rendered(model, "model");
    String html = html(b);
    assertTrue(html.contains(">predict_images:0<") && html.contains(">predict_images_0<"), html);
    assertTrue(html.contains(">StatefulPartitionedCall:0<") && html.contains(">StatefulPartitionedCall_0<"), html);
    assertTrue(html.contains(">[1,8,8,1]<") && html.contains(">int8<") && html.contains(">-128<"), html);
    assertTrue(html.contains("0.003921569") && html.contains("0.00390625"), "scales: " + html);
    assertTrue(html.contains(">CONV_2D<") && html.contains(">FULLY_CONNECTED<"), "op table: " + html);
    assertTrue(html.contains("10,008 B"), "weights: " + html);
    assertEquals(model.summary(), b.data().get("text/plain"));
    assertEquals(1 + 2, rows(html, "inputs and outputs"), "the header, one input, one output");
  }

  @Test void aBuildShowsItsExecutorOptionsArenaAgainstLowerBoundTimelineAndCompleteMetadata() {
    String html = html(rendered(aot, "build"));
    assertTrue(html.contains(">interface-api<") && html.contains(">c<") && html.contains(">unpacked-api<") && html.contains(">true<"), html);
    assertTrue(html.contains(">tvmgen_default_run<"), html);
    assertTrue(html.contains(">arena<") && html.contains(">lower bound<") && html.contains(">x1.000<"), html);
    assertTrue(html.contains("class=\"kiln-chart\"") && html.contains("CONV_2D"), "the memory plan inline, ops labelled: " + html);
    assertFalse(html.contains("<svg"), "no inline SVG: JupyterLab strips it from untrusted notebooks");
    assertTrue(html.contains("metadata (complete)") && html.contains("&quot;entry_point&quot; : &quot;tvmgen_default_run&quot;"), html);
    assertTrue(html(rendered(graph, "build")).contains(">graph<"));
  }

  @Test void aMemoryPlanIsAnSvgTimelineWithOneRectanglePerBufferAndThePeakAndLowerBoundMarked() throws Exception {
    MemoryPlan plan = aot.memoryPlan();
    MimeBundle b = rendered(plan, "memory-plan");
    String svg = (String) b.data().get("image/svg+xml");
    assertNotNull(svg, b.data().keySet().toString());
    Document doc = xml(svg);
    long buffers = countMatches(svg, "live over ops");
    assertEquals(plan.placements().size(), buffers);
    assertTrue(svg.contains("arena (peak) 640 B") && svg.contains("lower bound 640 B"), svg);
    assertEquals(2, doc.getElementsByTagName("line").getLength() - countMatches(svg, "stroke=\"#999\"") - countMatches(svg, "stroke=\"#eeeeee\""),
        "one dashed line for the peak, one dotted for the bound");
    String html = html(b);
    assertFalse(html.contains("<svg"), "no inline SVG: JupyterLab strips it from untrusted notebooks");
    assertEquals(1, countMatches(html, "class=\"kiln-chart\""), "the chart's HTML twin (nbconvert and Lab show HTML first)");
    assertEquals(buffers, countMatches(html, "live over ops"), "every buffer in the HTML twin too, its full name on hover");
    assertTrue(html.contains(">made by<") && html.contains(">CONV_2D #0<"), "the standalone plan names the operators: " + html);
    assertTrue(b.data().get("text/plain").toString().startsWith(plan.toString()));
  }

  @Test void aClassifierOutputIsATableAndABarChartOfTheTopClasses() throws Exception {
    MimeBundle b = rendered(reference, "tensor");
    String svg = (String) b.data().get("image/svg+xml");
    assertNotNull(svg, "a [1, 10] tensor is a classifier output: bar chart");
    xml(svg);
    assertEquals(10, countMatches(svg, "<rect") - 1 /* background */, "ten bars");
    int top = reference.argmax();
    assertTrue(svg.contains("font-weight=\"600\">class " + top + "</text>"), "the top class first and bold: " + svg);
    String html = html(b);
    assertTrue(html.contains("class=\"kiln-chart\"") && !html.contains("<svg") && html.contains("argmax " + top), html);
    assertEquals(10, countMatches(html, "title=\"class "), "ten bars in the HTML twin");
    assertArrayEquals(new int[] {top}, TensorView.topClasses(reference, 1));
    assertTrue(b.data().get("text/plain").toString().startsWith("Tensor [1,10] int8\n[-128, "), b.data().get("text/plain").toString());
  }

  @Test void anImageTensorIsAShadedGridAndHasNoChart() {
    MimeBundle b = rendered(image, "tensor");
    assertFalse(b.has("image/svg+xml"), "an [1, 8, 8, 1] image is no classifier");
    String html = html(b);
    assertEquals(1 + 8, rows(html, "values"), "header and eight rows");
    assertTrue(html.contains("background: rgb("), html);
  }

  @Test void aLongTensorShowsItsFirstValuesAndSaysSo() {
    Tensor big = Tensor.ofFloats(new int[] {1000}, new float[1000]);
    String html = html(rendered(big, "tensor"));
    assertTrue(html.contains("showing the first 256 of 1,000 values"), html);
  }

  @Test void aSessionShowsDeviceTransportAndStateAndChangesWhenClosed() {
    DeviceSession s = aot.flash(Device.host());
    String open;
    try (s) {
      open = html(rendered(s, "session"));
    }
    assertTrue(open.contains(">open<") && open.contains(">host (local process)<") && open.contains("process("), open);
    assertTrue(open.contains(">aot(interface-api=c, unpacked-api=true)<"), open);
    assertTrue(html(rendered(s, "session")).contains(">closed<"));
  }

  @Test void aTimingShowsMedianMinMaxAndEveryRound() throws Exception {
    Timing.Result r = new Timing.Result("aot", 10, new double[] {12e-6, 10e-6, 11e-6});
    MimeBundle b = rendered(r, "timing");
    String html = html(b);
    assertTrue(html.contains(">11.00<") && html.contains(">10.00<") && html.contains(">12.00<"), html);
    String svg = (String) b.data().get("image/svg+xml");
    xml(svg);
    assertEquals(3, countMatches(svg, "<circle"));
    assertEquals(r.toString(), b.data().get("text/plain"));
  }

  @Test void aKilnErrorShowsWhatWentWrongTheValidChoicesAndTheFixWithoutAStackTrace() {
    KilnException wrongName;
    try (DeviceSession s = aot.flash(Device.host())) {
      wrongName = assertThrows(KilnException.class, () -> s.executor().setInput("pixels", image));
    }
    MimeBundle b = rendered(wrongName, "error");
    String html = html(b);
    assertTrue(html.contains("no input named &#39;pixels&#39;"), html);
    assertTrue(html.contains("Valid choices:") && html.contains("0: predict_images:0 (C: predict_images_0) [1,8,8,1] int8"), html);
    assertTrue(html.contains("<b>Fix:</b>"), html);
    assertFalse(html.contains("at dev.kiln") || html.contains(".java:"), "no stack frames");

    ErrorView.Parts quantize = ErrorView.parts(new KilnException("input 0 predict_images:0 takes int8 [1, 8, 8, 1], but the tensor given is "
        + "float32 [1, 8, 8, 1]. Quantize it with this input's parameters (scale=0.003921569, zero_point=-128): tensor.quantize(x)"));
    assertEquals("input 0 predict_images:0 takes int8 [1, 8, 8, 1], but the tensor given is float32 [1, 8, 8, 1].", quantize.problem());
    assertTrue(quantize.fix().startsWith("Quantize it with"), quantize.fix());

    ErrorView.Parts device = ErrorView.parts(new KilnDeviceException(
        "run() failed: the device program exited\nThe session is closed; the host is fine: open a new one with build.flash(device)."));
    assertEquals("run() failed: the device program exited", device.problem());
    assertEquals("Open a new one with build.flash(device).", device.fix());
    assertEquals(List.of("The session is closed; the host is fine"), device.more());
  }

  @Test void everyNameAndMessageIsEscaped() throws Exception {
    String evil = "<script>alert('x')</script> a:b;c/d & \"q\"";
    MimeBundle table = Renderers.render(Show.table("name", "value").row(evil, 1));
    String html = html(table);
    assertFalse(html.contains("<script>"), html);
    assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; a:b;c/d &amp; &quot;q&quot;"), html);
    xml("<div>" + html(Renderers.render(new KilnException(evil))) + "</div>");
    assertEquals("a&lt;b", Html.escape("a<b"));
  }

  @Test void sideBySideMetadataIsOneTableWithTheDifferingFieldsMarked() throws Exception {
    MimeBundle b = Show.sideBySide("graph", graph.metadata(), "aot", aot.metadata());
    String html = html(b);
    xml(html);
    assertTrue(html.contains(">executor.kind<") && html.contains(">graph<") && html.contains(">aot<"), html);
    assertTrue(html.contains(">inputs[0].name<") && html.contains(">predict_images:0<"), html);
    assertTrue(b.data().get("text/plain").toString().contains("* executor.kind | graph=graph | aot=aot"), b.data().get("text/plain").toString());
    assertTrue(b.data().get("text/plain").toString().contains("  inputs[0].c_name | graph=predict_images_0 | aot=predict_images_0"));
    MimeBundle plans = Show.sideBySide("graph", graph.memoryPlan(), "aot", aot.memoryPlan());
    assertEquals(2, countMatches(html(plans), "class=\"kiln-chart\""));
    assertTrue(html(plans).contains("flex-wrap: nowrap") && html(plans).contains("overflow-x: auto"),
        "side by side at any width, each column scrolling: " + html(plans));
    assertThrows(IllegalArgumentException.class, () -> Show.sideBySide("odd"));
  }

  // ------------------------------------------------------------------ helpers

  /** The registry's bundle for {@code value}: text/html (root tagged kiln-KIND) and text/plain always. */
  static MimeBundle rendered(Object value, String kind) {
    MimeBundle b = Renderers.render(value);
    assertTrue(b.has("text/html"), value.getClass() + " has no text/html: " + b.data().keySet());
    assertTrue(b.has("text/plain"), value.getClass() + " has no text/plain");
    String html = html(b);
    assertTrue(html.startsWith("<div class=\"kiln-" + kind + "\""), html.substring(0, Math.min(80, html.length())));
    try {
      xml(html);
    } catch (Exception e) {
      throw new AssertionError("HTML of " + value.getClass().getSimpleName() + " is not well-formed: " + e.getMessage() + "\n" + html, e);
    }
    return b;
  }

  static String html(MimeBundle b) { return (String) b.data().get("text/html"); }

  static Document xml(String s) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)));
  }

  static long countMatches(String s, String needle) {
    long n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) n++;
    return n;
  }

  /** Rows (header included) of the table captioned {@code caption}. */
  static int rows(String html, String caption) {
    Matcher m = Pattern.compile("<caption[^>]*>" + Pattern.quote(caption) + "</caption>(.*?)</table>").matcher(html);
    assertTrue(m.find(), "no table captioned " + caption);
    return (int) countMatches(m.group(1), "<tr>");
  }

  static void assertArrayEquals(int[] want, int[] got) {
    org.junit.jupiter.api.Assertions.assertArrayEquals(want, got);
  }
}
