package dev.kiln.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;

/**
 * Executed notebooks as a reader meets them later (issue 14): opened in a real JupyterLab, in the
 * dark theme (the first notebook also in the dark high-contrast theme), untrusted (an in-memory
 * notary trusts nothing); and nbconvert's HTML copy in the same browser (light theme, trusted: the
 * {@code var(--jp-*)} path). For each, from the DOM
 * (script {@code lab-audit.js}) and a screenshot:
 * <ul>
 *   <li>the dark theme is on and the notebook is untrusted (the sanitizer dropped every {@code var(--jp-*)}
 *       declaration from Kiln's inline styles, which only happens to untrusted outputs);</li>
 *   <li>every piece of text in a Kiln display is legible: WCAG contrast against the background
 *       behind it at least 4.5 (table headers and cells, code chips, errors) or 3 (chart labels);</li>
 *   <li>every chart is drawn: a positioned box of its size whose parts are all positioned, inside it,
 *       and mostly filled, no inline SVG (which untrusted Lab would strip into run-together text)
 *       and no "Cannot display an untrusted SVG";</li>
 *   <li>the screenshot is dark and has the charts' colours.</li>
 * </ul>
 */
final class LabChecks {
  static final String THEME = "JupyterLab Dark";
  static final String HIGH_CONTRAST = "JupyterLab Dark High Contrast";
  /** Audits of the first notebook again in the high-contrast theme are named with this prefix. */
  static final String HC = "high contrast: ";
  private static final int OPEN_SECONDS = 60;

  private LabChecks() {}

  /**
   * The audits of {@code notebooks} (file names in {@code dir}) in Lab, and of {@code htmlCopies}
   * (nbconvert's light, trusted copies: JupyterLab's variables applied, no sanitizer) in the same
   * browser; one Lab and one browser for all; name to audit or error.
   */
  static Map<String, Object> audit(String chromium, Path dir, List<String> notebooks, List<Path> htmlCopies, Path temp,
      Map<String, String> env) {
    Map<String, Object> out = new LinkedHashMap<>();
    String script;
    try (InputStream in = LabChecks.class.getResourceAsStream("/lab-audit.js")) {
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      notebooks.forEach(n -> out.put(n, new IOException("lab-audit.js missing from the test resources", e)));
      return out;
    }
    try (LabBrowser lab = LabBrowser.start(chromium, dir, temp, env, THEME, 1280, 3000)) {
      for (String n : notebooks) {
        try {
          lab.open(n, OPEN_SECONDS);
          JsonNode report = lab.eval(script);
          byte[] png = lab.screenshot();
          Files.write(temp.resolve(n.replace(".ipynb", "") + "-lab-dark.png"), png);
          out.put(n, new Audit(report, ImageIO.read(new ByteArrayInputStream(png))));
        } catch (Exception e) {
          out.put(n, e);
        }
      }
      if (!notebooks.isEmpty()) {
        String n = notebooks.get(0);
        try {
          lab.theme(HIGH_CONTRAST);
          lab.open(n, OPEN_SECONDS);
          JsonNode report = lab.eval(script);
          byte[] png = lab.screenshot();
          Files.write(temp.resolve(n.replace(".ipynb", "") + "-lab-high-contrast.png"), png);
          out.put(HC + n, new Audit(report, ImageIO.read(new ByteArrayInputStream(png))));
        } catch (Exception e) {
          out.put(HC + n, e);
        }
      }
      for (Path html : htmlCopies) {
        String key = HTML_COPY + html.getFileName();
        try {
          lab.openFile(html, OPEN_SECONDS);
          JsonNode report = lab.eval(script);
          byte[] png = lab.screenshot();
          Files.write(temp.resolve(html.getFileName() + "-light.png"), png);
          out.put(key, new Audit(report, ImageIO.read(new ByteArrayInputStream(png))));
        } catch (Exception e) {
          out.put(key, e);
        }
      }
    } catch (Exception e) {
      for (String n : notebooks) out.putIfAbsent(n, e);
      for (Path html : htmlCopies) out.putIfAbsent(HTML_COPY + html.getFileName(), e);
    }
    return out;
  }

  /** Audits of nbconvert's HTML copies are named with this prefix. */
  static final String HTML_COPY = "nbconvert HTML copy ";

  record Audit(JsonNode report, BufferedImage screenshot) {}

  /** One test per notebook and promise. */
  static List<DynamicTest> tests(Map<String, Object> audits) {
    List<DynamicTest> tests = new ArrayList<>();
    audits.forEach((name, result) -> {
      boolean copy = name.startsWith(HTML_COPY);
      boolean hc = name.startsWith(HC);
      String theme = hc ? HIGH_CONTRAST : THEME;
      String prefix = copy ? name + " (light, trusted, in Chromium): "
          : "JupyterLab, " + theme + ", untrusted: " + (hc ? name.substring(HC.length()) : name) + ": ";
      if (copy) {
        tests.add(DynamicTest.dynamicTest(prefix + "in the light theme, Kiln's themed styles applied, with Kiln's tables", () -> {
          JsonNode r = report(result);
          assertEquals("true", r.path("themeLight").asText(), r.toString());
          assertTrue(r.path("kilnRoots").asInt() > 0 && r.path("tables").asInt() > 0, "no Kiln displays: " + r);
          assertTrue(r.path("themedStylesKept").asInt() > 0, "no var(--jp-*) styles: not the trusted path");
        }));
      } else {
        tests.add(DynamicTest.dynamicTest(prefix + "opens in that theme, untrusted, with Kiln's tables", () -> {
          JsonNode r = report(result);
          assertEquals(theme, r.path("theme").asText(), r.toString());
          assertEquals("false", r.path("themeLight").asText());
          assertTrue(r.path("kilnRoots").asInt() > 0 && r.path("tables").asInt() > 0, "no Kiln displays: " + r);
          assertEquals(0, r.path("themedStylesKept").asInt(), "var(--jp-*) styles kept: the notebook was trusted");
        }));
      }
      tests.add(DynamicTest.dynamicTest(prefix + "every text of every Kiln display is legible (contrast)", () -> {
        JsonNode r = report(result);
        assertTrue(r.path("texts").asInt() > 20, "too few texts measured: " + r.path("texts"));
        for (JsonNode t : r.path("worst")) {
          double min = t.path("kind").asText().equals("chart") ? 3.0 : 4.5;
          assertTrue(t.path("contrast").asDouble() >= min, "illegible " + t.path("kind").asText() + " text: " + t);
        }
      }));
      tests.add(DynamicTest.dynamicTest(prefix + "every chart is drawn, none is inline SVG or run-together text", () -> {
        JsonNode r = report(result);
        assertEquals(0, r.path("inlineSvg").asInt(), "inline SVG in an output");
        assertEquals(0, r.path("untrustedSvgNotices").asInt(), "an output says it cannot display an untrusted SVG");
        for (JsonNode c : r.path("charts")) {
          assertTrue(c.path("width").asDouble() >= 100 && c.path("height").asDouble() >= 30, "chart too small: " + c);
          assertEquals("relative", c.path("position").asText(), "the chart box lost its position: " + c);
          assertTrue(c.path("parts").asInt() >= 3, "an empty chart: " + c);
          assertEquals(c.path("parts").asInt(), c.path("absolute").asInt(), "parts not positioned (run-together): " + c);
          assertEquals(c.path("parts").asInt(), c.path("inside").asInt(), "parts outside the chart: " + c);
          assertTrue(c.path("filled").asInt() * 3 >= c.path("parts").asInt() / 2, "too few drawn shapes: " + c);
        }
      }));
      tests.add(DynamicTest.dynamicTest(prefix + "Show.sideBySide lays its values out side by side, not stacked", () -> {
        JsonNode r = report(result);
        for (JsonNode s : r.path("sideBySide")) {
          assertTrue(s.path("columns").asInt() >= 2, s.toString());
          for (JsonNode top : s.path("tops")) assertEquals(s.path("tops").get(0).asInt(), top.asInt(), "stacked: " + s);
        }
      }));
      tests.add(DynamicTest.dynamicTest(prefix + "the screenshot is " + (copy ? "light" : "dark") + " and shows the charts' colours", () -> {
        if (!(result instanceof Audit a)) throw failure(result);
        BufferedImage img = a.screenshot();
        long dark = 0;
        long colourful = 0;
        long all = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
          for (int x = 0; x < img.getWidth(); x += 2) {
            int rgb = img.getRGB(x, y);
            int r = (rgb >> 16) & 0xff;
            int g = (rgb >> 8) & 0xff;
            int b = rgb & 0xff;
            all++;
            if (r + g + b < 3 * 60) dark++;
            if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) colourful++;
          }
        }
        if (copy) assertTrue(dark < all / 4, "not a light page: " + dark + " of " + all + " sampled pixels dark");
        else assertTrue(dark > all / 2, "not a dark page: " + dark + " of " + all + " sampled pixels dark");
        if (a.report().path("charts").size() > 0) assertTrue(colourful > 400, "charts without colour: " + colourful + " coloured pixels");
      }));
    });
    return tests;
  }

  private static JsonNode report(Object result) {
    if (result instanceof Audit a) return a.report();
    throw failure(result);
  }

  private static AssertionError failure(Object result) {
    if (result instanceof Throwable t) return new AssertionError("the notebook could not be audited in JupyterLab: " + t, t);
    return new AssertionError("no audit: " + result);
  }

  static void requireLab() {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import jupyterlab").redirectErrorStream(true).start();
      if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("jupyterlab is needed for the browser test: ./install installs it from the local wheel index");
      }
    } catch (IOException | InterruptedException e) {
      fail("python3 -c 'import jupyterlab' failed: " + e);
    }
  }
}
