/**
 * How Kiln's values show in a notebook: a view per API type (model, build, memory plan, tensor,
 * session, timing, error) returning HTML tables (Tablesaw), inline SVG charts and plain text, plus
 * {@link dev.kiln.kernel.render.Show} for comparisons. Installed by {@link dev.kiln.kernel.render.KilnRenderers}.
 */
package dev.kiln.kernel.render;
