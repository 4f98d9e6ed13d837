package dev.kiln.project;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Flash and RAM of a linked device program, from its ELF ({@code size -B}: text includes read-only
 * data), and the check against the board: flash holds text + data, RAM holds data + bss plus the
 * stack the platform reserves ({@code stack_bytes}).
 */
public record FirmwareSize(String platform, long text, long data, long bss, long flashBytes, long ramBytes, long stackBytes) {

  public long flash() { return text + data; }

  public long ram() { return data + bss; }

  public boolean fits() {
    return flashBytes <= 0 || (flash() <= flashBytes && ram() + stackBytes <= ramBytes);
  }

  /** Throws {@link ProgramTooLargeException} naming every size when the program does not fit the board. */
  public FirmwareSize requireFits() throws ProgramTooLargeException {
    if (!fits()) {
      throw new ProgramTooLargeException(String.format(Locale.ROOT,
          "the device program does not fit %s: flash %,d bytes (code and constants %,d + initialised data %,d) of %,d; "
              + "RAM %,d bytes (data %,d + bss %,d, which holds the runtime with its %s and the model's arena) + %,d of stack, of %,d. "
              + "Pick a smaller model or a board with more memory (e.g. qemu:mps2-an386)",
          platform, flash(), text, data, flashBytes, ram(), data, bss, "buffers", stackBytes, ramBytes), this);
    }
    return this;
  }

  static FirmwareSize measure(Path elf, Platform platform) throws IOException, InterruptedException {
    String tool = platform.isHost() ? "size" : platform.compiler().replaceFirst("gcc$", "size");
    String out = HostProgram.exec(List.of(tool, "-B", "-d", elf.toString()), elf.getParent(), 60);
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[0].matches("\\d+")) {
        return new FirmwareSize(platform.name(), Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
            platform.flashBytes(), platform.ramBytes(), platform.stackBytes());
      }
    }
    throw new IOException("unexpected output of " + tool + ": " + out);
  }

  /**
   * One line for tables: what does not fit, e.g. "does not fit qemu-microbit: needs 51 KiB of RAM
   * (of 16 KiB, stack included)" (KiB rounded up), or "fits" when it does.
   */
  public String shortfall() {
    List<String> needs = new java.util.ArrayList<>();
    if (flashBytes > 0 && flash() > flashBytes) {
      needs.add(String.format(Locale.ROOT, "%,d KiB of flash (of %,d KiB)", kib(flash()), flashBytes >> 10));
    }
    if (flashBytes > 0 && ram() + stackBytes > ramBytes) {
      needs.add(String.format(Locale.ROOT, "%,d KiB of RAM (of %,d KiB, stack included)", kib(ram() + stackBytes), ramBytes >> 10));
    }
    return needs.isEmpty() ? "fits" : "does not fit " + platform + ": needs " + String.join(" and ", needs);
  }

  private static long kib(long bytes) { return (bytes + 1023) >> 10; }

  @Override public String toString() {
    return String.format(Locale.ROOT, "flash %,d B (text %,d, data %,d), RAM %,d B (data %,d, bss %,d)%s", flash(), text, data, ram(),
        data, bss, flashBytes > 0 ? String.format(Locale.ROOT, " of %,d / %,d on %s", flashBytes, ramBytes, platform) : "");
  }
}
