package dev.kiln.kernel.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendererRegistryTest {
  private final RendererRegistry registry = new RendererRegistry();

  @Test
  void aValueWithoutRendererIsItsToStringAsTextPlain() {
    assertEquals(Map.of("text/plain", "[1, 2]"), registry.render(List.of(1, 2)).data());
  }

  @Test
  void arraysAreShownElementByElement() {
    assertEquals("[1, 2, 3]", registry.render(new int[] {1, 2, 3}).data().get("text/plain"));
    assertEquals("[[a], [b]]", registry.render(new String[][] {{"a"}, {"b"}}).data().get("text/plain"));
  }

  @Test
  void aRendererGivesItsTypesAndTextPlainIsAddedFromToString() {
    registry.register(StringBuilder.class, sb -> MimeBundle.html("<i>" + sb + "</i>").withSvg("<svg/>"));
    MimeBundle b = registry.render(new StringBuilder("x"));
    assertEquals(List.of("text/html", "image/svg+xml", "text/plain"), List.copyOf(b.data().keySet()));
    assertEquals("<i>x</i>", b.data().get("text/html"));
    assertEquals("x", b.data().get("text/plain"));
  }

  @Test
  void aRendererForASuperclassOrInterfaceAppliesToSubtypes() {
    registry.register(Collection.class, c -> MimeBundle.text(c.size() + " items"));
    assertEquals("2 items", registry.render(new ArrayList<>(List.of(1, 2))).data().get("text/plain"));
    registry.register(ArrayList.class, c -> MimeBundle.text("array list"));
    assertEquals("array list", registry.render(new ArrayList<>()).data().get("text/plain"), "nearest class wins");
  }

  @Test
  void aFailingRendererFallsBackToToString() {
    registry.register(Integer.class, i -> { throw new IllegalStateException("broken"); });
    assertEquals(Map.of("text/plain", "7"), registry.render(7).data());
  }

  @Test
  void aMimeBundleIsShownAsItIs() {
    MimeBundle b = MimeBundle.markdown("# hi").withText("hi");
    assertEquals(b.data(), registry.render(b).data());
    assertFalse(registry.hasRendererFor(String.class));
  }

  @Test
  void aMimeTypeMustLookLikeOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MimeBundle.of("html", "x"));
    assertEquals("not a MIME type: html", e.getMessage());
  }
}
