package dev.kiln.kernel.display;

import java.util.ServiceLoader;

/**
 * The kernel's renderer registry, reachable from cells and from code on the kernel's class path.
 *
 * <pre>{@code
 * Renderers.register(Model.class, m -> MimeBundle.html(ModelHtml.table(m)).withText(m.summary()));
 * Renderers.register(MemoryPlan.class, p -> MimeBundle.svg(PlanSvg.timeline(p)));
 * }</pre>
 *
 * Providers listed in {@code META-INF/services/dev.kiln.kernel.display.RendererProvider} are
 * installed the first time the registry is used.
 */
public final class Renderers {
  private static final RendererRegistry REGISTRY = new RendererRegistry();
  private static volatile boolean providersLoaded;
  private static boolean loading;

  private Renderers() {}

  public static RendererRegistry registry() {
    if (!providersLoaded) loadProviders();
    return REGISTRY;
  }

  public static <T> void register(Class<T> type, Renderer<? super T> renderer) { registry().register(type, renderer); }

  public static void unregister(Class<?> type) { registry().unregister(type); }

  /** The bundle the kernel would show for {@code value}. */
  public static MimeBundle render(Object value) { return registry().render(value); }

  /**
   * Other threads wait here until every provider has registered (the kernel loads them on a thread
   * of their own at start-up); a provider that calls back into the registry returns at once.
   */
  private static synchronized void loadProviders() {
    if (providersLoaded || loading) return;
    loading = true;
    try {
      for (RendererProvider p : ServiceLoader.load(RendererProvider.class, Renderers.class.getClassLoader())) {
        try {
          p.register(REGISTRY);
        } catch (RuntimeException | LinkageError e) {
          System.err.println("renderer provider " + p.getClass().getName() + " failed: " + e);
        }
      }
    } finally {
      providersLoaded = true;
    }
  }
}
