package dev.kiln.api;

/**
 * Argument checks of the public API: a null becomes a {@link KilnException} that names the call,
 * the argument and what to pass instead, never a bare NullPointerException from deep inside.
 */
final class Args {
  private Args() {}

  /** Throws "{@code call}: {@code name} is null; pass {@code fix}" when {@code value} is null. */
  static <T> T notNull(T value, String name, String call, String fix) {
    if (value == null) throw new KilnException(call + ": " + name + " is null; pass " + fix);
    return value;
  }
}
