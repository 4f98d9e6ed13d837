package dev.kiln.kernel.display;

/**
 * Installs renderers without the kernel naming them: list the implementation in
 * {@code META-INF/services/dev.kiln.kernel.display.RendererProvider} on the kernel's class path,
 * and the kernel calls {@link #register} once, before the first value is shown.
 */
public interface RendererProvider {
  void register(RendererRegistry registry);
}
