package dev.kiln.kernel.render;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.api.Build;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.Timing;
import dev.kiln.compile.MemoryPlan;
import dev.kiln.kernel.display.RendererProvider;
import dev.kiln.kernel.display.RendererRegistry;
import tech.tablesaw.api.Table;

/**
 * Every Kiln type's display, installed through {@code META-INF/services} before the kernel shows
 * its first value. Each view returns {@code text/html} (with any chart inline, since notebook
 * frontends and nbconvert show only the richest type), {@code image/svg+xml} where there is a
 * chart, and always {@code text/plain}.
 */
public final class KilnRenderers implements RendererProvider {
  @Override
  public void register(RendererRegistry registry) {
    registry.register(Model.class, ModelView::render);
    registry.register(Build.class, BuildView::render);
    registry.register(MemoryPlan.class, MemoryPlanView::render);
    registry.register(Tensor.class, TensorView::render);
    registry.register(DeviceSession.class, SessionView::render);
    registry.register(Timing.Result.class, TimingView::render);
    registry.register(dev.kiln.api.Profile.class, ProfileView::render);
    registry.register(dev.kiln.project.ProgramMemory.class, ProgramMemoryView::render);
    registry.register(KilnException.class, ErrorView::render);
    registry.register(dev.kiln.api.Comparison.class, ComparisonView::render);
    registry.register(JsonNode.class, Show::render);
    registry.register(Show.Rows.class, Show::render);
    registry.register(Table.class, Show::render);
    warmTablesawInBackground();
  }

  /**
   * Tablesaw's {@code Table} scans the class path for its readers once, on first use (about 0.25 s):
   * done here on a daemon thread while the kernel starts, so the first model shown does not wait.
   */
  private static void warmTablesawInBackground() {
    Thread t = new Thread(() -> {
      try {
        Class.forName("tech.tablesaw.api.Table", true, KilnRenderers.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        // the first display will report it
      }
    }, "kiln-tablesaw-warmup");
    t.setDaemon(true);
    t.start();
  }
}
