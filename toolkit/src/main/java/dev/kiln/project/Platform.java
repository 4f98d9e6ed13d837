package dev.kiln.project;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * A folder {@code platform/<name>/} of the device runtime and how to build for it, read from its
 * {@code platform.properties}: compiler and flags, the platform folders whose C files are compiled
 * in, the linker script, the board's flash and RAM (a program that does not fit is refused at build
 * time), the packet size of its link, and the QEMU command that emulates it (empty for a real
 * board or the host). Everything platform-specific lives in those folders; this is only the reader.
 */
public record Platform(String name, String description, String architecture, String compiler, List<String> cflags,
                       List<String> ldflags, String linkerScript, List<String> sources, List<String> libs, long flashBytes,
                       long ramBytes, long stackBytes, int packetBytes, long minDeviceMemoryBytes, List<String> qemu) {
  /** The emulated boards Kiln ships, in the order {@code kiln} lists them. */
  public static final List<String> QEMU_BOARDS = List.of("mps2-an385", "mps2-an386", "mps2-an505", "microbit", "riscv32-virt");

  public Platform {
    cflags = List.copyOf(cflags);
    ldflags = List.copyOf(ldflags);
    sources = List.copyOf(sources);
    libs = List.copyOf(libs);
    qemu = List.copyOf(qemu);
  }

  /** The POSIX host platform (gcc, stdin/stdout). */
  public static Platform host() {
    try {
      return named("host");
    } catch (IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** {@code platform/<name>/platform.properties} from the runtime resources. */
  public static Platform named(String name) throws IOException {
    String text;
    try {
      text = DeviceProgram.resource(DeviceProgram.RUNTIME + "platform/" + name + "/platform.properties");
    } catch (IOException e) {
      throw new IOException("no platform named '" + name + "'; the QEMU boards are qemu-" + String.join(", qemu-", QEMU_BOARDS)
          + ", and 'host'", e);
    }
    Properties p = new Properties();
    p.load(new StringReader(text));
    return new Platform(name, p.getProperty("description", name), p.getProperty("architecture", "host"),
        p.getProperty("compiler", "gcc"), words(p, "cflags"), words(p, "ldflags"), p.getProperty("linker_script", "").trim(),
        words(p, "sources"), words(p, "libs"), Long.parseLong(p.getProperty("flash_bytes", "0").trim()),
        Long.parseLong(p.getProperty("ram_bytes", "0").trim()), Long.parseLong(p.getProperty("stack_bytes", "0").trim()), Integer.parseInt(p.getProperty("packet_bytes", "0").trim()),
        Long.parseLong(p.getProperty("min_device_memory_bytes", "0").trim()),
        words(p, "qemu"));
  }

  private static List<String> words(Properties p, String key) {
    String v = p.getProperty(key, "").trim();
    return v.isEmpty() ? List.of() : new ArrayList<>(Arrays.asList(v.split("\\s+")));
  }

  /** True for the POSIX process platform. */
  public boolean isHost() { return architecture.equals("host"); }

  /** True for a board with fixed flash and RAM (the program is an ELF checked against them). */
  public boolean isMicrocontroller() { return !isHost(); }

  @Override public String toString() { return name + " (" + description + ")"; }
}
