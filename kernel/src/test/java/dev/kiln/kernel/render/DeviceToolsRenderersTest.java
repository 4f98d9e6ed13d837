package dev.kiln.kernel.render;

import static dev.kiln.kernel.render.KilnRenderersTest.countMatches;
import static dev.kiln.kernel.render.KilnRenderersTest.html;
import static dev.kiln.kernel.render.KilnRenderersTest.rendered;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Profile;
import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.project.ProgramMemory;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The per-operator profile and the device program's memory as the kernel shows them: a table with
 * one row per part and bars drawn in HTML/CSS (never SVG inside HTML, which untrusted notebooks drop),
 * always with text/plain.
 */
class DeviceToolsRenderersTest {
  @org.junit.jupiter.api.BeforeAll static void load() { KilnRenderersTest.load(); }

  static Profile profile(OptionalDouble rate) {
    List<Profile.Entry> entries = List.of(
        new Profile.Entry(0, "CONV_2D", "conv<1>&out", "tvmgen_default_fused_conv_2d", 6.0, 0.6,
            rate.isPresent() ? OptionalLong.of(6000) : OptionalLong.empty()),
        new Profile.Entry(1, "RESHAPE", "flat", "inline", 0.0, 0.0, rate.isPresent() ? OptionalLong.of(0) : OptionalLong.empty()),
        new Profile.Entry(2, "SOFTMAX", "probs", "tvmgen_default_fused_softmax", 3.0, 0.3,
            rate.isPresent() ? OptionalLong.of(3000) : OptionalLong.empty()));
    return new Profile("digits", "aot(interface-api=packed, unpacked-api=false)", "host (local process)", 10, 1, entries, 10.0, rate);
  }

  @Test void aProfileIsATableWithOneBarPerOperatorInHtmlAndNoSvg() {
    MimeBundle b = rendered(profile(OptionalDouble.empty()), "profile");
    String html = html(b);
    assertEquals(3, countMatches(html, "class=\"kiln-bar\""), html);
    assertTrue(html.contains("width: 160.0px;") && html.contains("width: 80.0px;") && html.contains("width: 0.0px;"), html);
    assertTrue(html.contains("conv&lt;1&gt;&amp;out"), "names are escaped: " + html);
    assertTrue(html.contains(">6.00<") && html.contains(">60.0%<") && html.contains("operators 9.00 us of 10.00 us per run (90.0%"), html);
    assertFalse(html.contains("<svg"), "no SVG inside HTML");
    assertFalse(html.contains("instructions"), html);
    assertTrue(((String) b.data().get("text/plain")).contains("SOFTMAX"));
  }

  @Test void aProfileOfAnInstructionCountingDeviceShowsInstructions() {
    String html = html(rendered(profile(OptionalDouble.of(1000)), "profile"));
    assertTrue(html.contains(">instructions<") && html.contains(">6,000<"), html);
    assertTrue(profile(OptionalDouble.of(1000)).table().contains("instructions"));
  }

  @Test void aHostSessionShowsItsProgramsFlashAndRam() {
    try (dev.kiln.api.DeviceSession s = KilnRenderersTest.graph.flash(dev.kiln.api.Device.host())) {
      String html = html(rendered(s, "session"));
      assertTrue(html.contains("device program memory: flash ") && html.contains("class=\"kiln-memory\""), html);
      assertTrue(html.contains(">weights<"), html);
    }
  }

  @Test void programMemoryIsATableOfFlashAndRamPartsWithBars() {
    ProgramMemory m = new ProgramMemory("kiln-device", 32, 4000, 6000, 0, 10008, 512, 300, 180, 20, 100_000, 4096, 90_000,
        OptionalLong.of(1234));
    MimeBundle b = rendered(m, "memory");
    String html = html(b);
    assertTrue(html.contains("flash 21,020 B (20.5 KiB)") && html.contains("static RAM 100,020 B"), html);
    assertTrue(html.contains(">10,008<") && html.contains(">1,234<") && html.contains("weights"), html);
    assertEquals(11, countMatches(html, "class=\"kiln-bar\""), html);
    assertFalse(html.contains("<svg"));
    assertTrue(((String) b.data().get("text/plain")).contains("stack high-water"));
  }
}
