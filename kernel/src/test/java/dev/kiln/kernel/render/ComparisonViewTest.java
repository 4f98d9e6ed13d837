package dev.kiln.kernel.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Comparison;
import dev.kiln.api.Kiln;
import dev.kiln.kernel.display.Display;
import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.kernel.display.Renderers;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xml.sax.InputSource;

/**
 * A comparison in a notebook: the table as HTML whose bars are HTML/CSS (no SVG for a sanitizer to
 * turn into text), and the chart as an output of its own in SVG and PNG, so an untrusted JupyterLab,
 * which shows only images it trusts, still draws it.
 */
class ComparisonViewTest {
  static Comparison comparison;

  @BeforeAll static void compare() {
    Path seed = Path.of(System.getProperty("kiln.shared", "../../shared"), "models/digits_cnn_int8/digits_cnn_int8.tflite");
    comparison = Kiln.compare(Kiln.load(seed)).runs(3).run();
  }

  @Test void inACellTheTableIsOneOutputAndTheChartTheResult() {
    List<MimeBundle> shown = new ArrayList<>();
    Display.install(new Display.Sink() {
      @Override public void display(MimeBundle bundle, String displayId) { shown.add(bundle); }

      @Override public void update(MimeBundle bundle, String displayId) {}

      @Override public void clearOutput(boolean wait) {}
    });
    MimeBundle result;
    try {
      result = Renderers.render(comparison);
    } finally {
      Display.install(null);
    }
    assertEquals(1, shown.size(), "the table, published before the result");
    String html = (String) shown.get(0).data().get(MimeBundle.TEXT_HTML);
    assertTrue(html.startsWith("<div class=\"kiln-compare\""), html);
    assertFalse(html.contains("<svg"), "no SVG inside HTML: untrusted Lab would strip it to text");
    assertEquals(4, count(html, "class=\"kiln-bar\""), "a latency bar and a flash bar per row, in HTML/CSS");
    assertFalse(html.contains("color: #fff") || html.contains("color: white"), "no fixed light text colour: it inherits the theme's");
    assertTrue(((String) shown.get(0).data().get(MimeBundle.TEXT_PLAIN)).startsWith("Kiln comparison: 2 rows"));
    assertEquals(List.of(MimeBundle.IMAGE_SVG, MimeBundle.IMAGE_PNG, MimeBundle.TEXT_PLAIN), List.copyOf(result.data().keySet()));
    assertTrue(((String) result.data().get(MimeBundle.TEXT_PLAIN)).contains("digits_cnn_int8  aot-c-unpacked  host    yes"),
        (String) result.data().get(MimeBundle.TEXT_PLAIN));
    assertEquals(Map.of("width", 680), result.metadata().get(MimeBundle.IMAGE_PNG));
  }

  @Test void theChartIsTheSameInSvgAndPng() throws Exception {
    MimeBundle chart = ComparisonView.chart(comparison);
    String svg = (String) chart.data().get(MimeBundle.IMAGE_SVG);
    var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    assertEquals("svg", doc.getDocumentElement().getTagName());
    assertTrue(svg.contains(">digits_cnn_int8 · graph · host</text>") && svg.contains(">digits_cnn_int8 · aot-c-unpacked · host</text>"));
    assertTrue(svg.contains("fill=\"#ffffff\""), "a white ground, so its dark text reads in a dark theme too");
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode((String) chart.data().get(MimeBundle.IMAGE_PNG))));
    int svgHeight = Integer.parseInt(doc.getDocumentElement().getAttribute("height"));
    assertEquals(680 * 2, png.getWidth());
    assertEquals(svgHeight * 2, png.getHeight());
    int blue = 0;
    for (int y = 0; y < png.getHeight(); y++) for (int x = 0; x < png.getWidth(); x++) if ((png.getRGB(x, y) & 0xffffff) == 0x4e79a7) blue++;
    assertTrue(blue > 1000, "the bars are drawn: " + blue + " bar pixels");
  }

  @Test void outsideAKernelOneBundleHasEverything() {
    MimeBundle all = ComparisonView.render(comparison);
    assertTrue(all.has(MimeBundle.TEXT_HTML) && all.has(MimeBundle.IMAGE_SVG) && all.has(MimeBundle.IMAGE_PNG));
    assertEquals(comparison.toString(), all.data().get(MimeBundle.TEXT_PLAIN));
  }

  private static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
    return n;
  }
}
