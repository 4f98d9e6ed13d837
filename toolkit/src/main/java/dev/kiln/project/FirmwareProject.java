package dev.kiln.project;

import dev.kiln.codegen.DeviceModelWriter;
import dev.kiln.codegen.GeneratedFile;
import dev.kiln.codegen.GraphJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained firmware project for a board Kiln does not know: the model's device library,
 * the runtime and executors, the shared microcontroller main and start-up code, a board folder with
 * the hooks to fill ({@code platform/board/}: UART read and write, timer, stop, and the memory map),
 * ready examples for the QEMU boards of the same architecture, a Makefile and a CMakeLists.txt, and
 * a README saying what to fill and how the host drives the result. Built with the vendor's
 * toolchain by the user; nothing outside the folder is needed.
 */
public final class FirmwareProject {
  /** Architectures and the QEMU boards whose platforms ship as examples. */
  static final Map<String, List<String>> EXAMPLES = Map.of(
      "cortex-m", List.of("qemu-mps2-an385", "qemu-mps2-an386", "qemu-mps2-an505", "qemu-microbit"),
      "riscv32", List.of("qemu-riscv32-virt"));

  private FirmwareProject() {}

  /**
   * Writes the project for {@code writer}'s model into {@code dir} (all or nothing).
   *
   * @param architecture "cortex-m" or "riscv32"
   */
  public static Path write(DeviceModelWriter writer, String architecture, Path dir) throws IOException {
    String arch = architecture.toLowerCase(Locale.ROOT);
    if (!EXAMPLES.containsKey(arch)) {
      throw new IllegalArgumentException("--platform must be cortex-m or riscv32, not '" + architecture + "'");
    }
    Platform template = Platform.named("template-" + arch);
    Map<String, String> out = new LinkedHashMap<>();
    DeviceProgram.Sizes sizes = DeviceProgram.Sizes.of(writer, template);
    List<GeneratedFile> model = new ArrayList<>(writer.files());
    String json = writer.graphJson().map(GraphJson::text).orElse("");
    boolean linked = DeviceProgram.linksGraphJson(json, sizes.packetBytes());
    model.add(linked ? DeviceProgram.linkedGraph(json) : DeviceProgram.noLinkedGraph());
    for (GeneratedFile f : model) out.put("model/" + f.path(), f.text());
    for (String sub : List.of("crt", "executors")) {
      for (String name : DeviceProgram.listResources(DeviceProgram.RUNTIME + sub + "/")) {
        if (name.equals("kiln_syslib_empty.c") || !(name.endsWith(".c") || name.endsWith(".h"))) continue;
        out.put("runtime/" + sub + "/" + name, DeviceProgram.resource(DeviceProgram.RUNTIME + sub + "/" + name));
      }
    }
    List<String> common = arch.equals("cortex-m") ? List.of("mcu", "cortex-m") : List.of("mcu");
    for (String c : common) copyFolder(c, "platform/common", out);
    // the board to fill
    copyFolder(template.name(), "platform/board", out);
    out.remove("platform/board/platform.properties");
    out.put("platform/board/board.mk", boardMk(template, false));
    out.put("platform/board/board.cmake", boardCmake(template, false));
    for (String example : EXAMPLES.get(arch)) {
      Platform p = Platform.named(example);
      for (String src : p.sources()) if (!common.contains(src)) copyFolder(src, "platform/" + example, out);
      out.remove("platform/" + example + "/platform.properties");
      out.put("platform/" + example + "/linker.ld", DeviceProgram.resource(DeviceProgram.RUNTIME + "platform/" + p.linkerScript()));
      out.put("platform/" + example + "/board.mk", boardMk(p, true));
      out.put("platform/" + example + "/board.cmake", boardCmake(p, true));
    }
    String config = "-DKILN_MAX_PACKET_BYTES=" + sizes.packetBytes() + " -DKILN_ARENA_BYTES=" + sizes.arenaBytes() + "u";
    out.put("Makefile", makefile(config));
    out.put("CMakeLists.txt", cmakeLists(config));
    out.put("README.md", readme(writer, arch, sizes, linked, json.getBytes(StandardCharsets.UTF_8).length));
    FolderWriter.write(dir, out);
    return dir;
  }

  private static void copyFolder(String platformDir, String to, Map<String, String> out) throws IOException {
    for (String name : DeviceProgram.listResources(DeviceProgram.RUNTIME + "platform/" + platformDir + "/")) {
      out.put(to + "/" + name, DeviceProgram.resource(DeviceProgram.RUNTIME + "platform/" + platformDir + "/" + name));
    }
  }

  private static String cross(Platform p) { return p.compiler().replaceFirst("gcc$", ""); }

  /** Board flags; a QEMU example also gets the icount shift Kiln runs it with, for exact instruction counts. */
  private static List<String> cflags(Platform p, boolean qemu) {
    List<String> f = new ArrayList<>(p.cflags());
    if (qemu) f.add("-DKILN_QEMU_ICOUNT_SHIFT=" + 7);
    return f;
  }

  private static String boardMk(Platform p, boolean qemu) {
    StringBuilder s = new StringBuilder("# " + p.description() + "\n");
    s.append("CROSS = ").append(cross(p)).append('\n');
    s.append("BOARD_CFLAGS = ").append(String.join(" ", cflags(p, qemu))).append('\n');
    s.append("BOARD_LDFLAGS = ").append(String.join(" ", p.ldflags())).append('\n');
    if (qemu) {
      s.append("QEMU = ").append(String.join(" ", p.qemu())).append(" -nodefaults -display none -no-reboot")
          .append(p.architecture().equals("cortex-m") ? " -semihosting-config enable=on,target=native" : "")
          .append(" -icount shift=7,sleep=off\n");
    }
    return s.toString();
  }

  private static String boardCmake(Platform p, boolean qemu) {
    return "# " + p.description() + "\n"
        + "set(KILN_CROSS \"" + cross(p) + "\")\n"
        + "set(KILN_BOARD_CFLAGS " + String.join(" ", cflags(p, qemu)) + ")\n"
        + "set(KILN_BOARD_LDFLAGS " + String.join(" ", p.ldflags()) + ")\n";
  }

  private static String makefile(String config) {
    return """
        # Kiln firmware: `make` builds platform/board (fill it in first), `make BOARD=qemu-mps2-an386` an example.
        # Output: build/$(BOARD)/firmware.elf (and .bin). Only this folder and the cross toolchain are needed.
        BOARD ?= board
        include platform/$(BOARD)/board.mk

        CC = $(CROSS)gcc
        OBJCOPY = $(CROSS)objcopy
        SIZE = $(CROSS)size
        # Pool sizes of the runtime (runtime/crt/kiln_config.h): the link's packet and the device memory the model needs.
        KILN_CONFIG = %s
        SOURCES = $(wildcard model/src/*.c runtime/crt/*.c runtime/executors/*.c platform/common/*.c platform/$(BOARD)/*.c)
        INCLUDES = -Imodel/include -Iruntime/crt -Iruntime/executors -Iplatform/common -Iplatform/$(BOARD)
        CFLAGS = -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -pedantic $(BOARD_CFLAGS) $(KILN_CONFIG)
        OUT = build/$(BOARD)

        all: $(OUT)/firmware.elf

        $(OUT)/firmware.elf: $(SOURCES) platform/$(BOARD)/linker.ld platform/$(BOARD)/board.mk
        \tmkdir -p $(OUT)
        \t$(CC) $(CFLAGS) $(INCLUDES) $(SOURCES) $(BOARD_LDFLAGS) -Wl,--gc-sections -Lplatform/common -Lplatform/$(BOARD) -T platform/$(BOARD)/linker.ld -lm -o $@
        \t$(OBJCOPY) -O binary $@ $(OUT)/firmware.bin
        \t$(SIZE) $@

        # QEMU examples only: boots the firmware with its UART on a pseudo-terminal (QEMU prints its name).
        run: $(OUT)/firmware.elf
        \t$(QEMU) -kernel $< -serial pty

        clean:
        \trm -rf build

        .PHONY: all run clean
        """.formatted(config);
  }

  private static String cmakeLists(String config) {
    return """
        # Kiln firmware with CMake: cmake -B build -DBOARD=qemu-mps2-an386 && cmake --build build
        # (BOARD defaults to platform/board, which you fill in first).
        cmake_minimum_required(VERSION 3.13)
        set(BOARD "board" CACHE STRING "the folder platform/<BOARD>")
        include(${CMAKE_CURRENT_SOURCE_DIR}/platform/${BOARD}/board.cmake)
        set(CMAKE_SYSTEM_NAME Generic)
        set(CMAKE_C_COMPILER ${KILN_CROSS}gcc)
        set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
        project(kiln_firmware C)

        separate_arguments(KILN_CONFIG UNIX_COMMAND "%s")
        file(GLOB SOURCES model/src/*.c runtime/crt/*.c runtime/executors/*.c platform/common/*.c platform/${BOARD}/*.c)
        add_executable(firmware.elf ${SOURCES})
        target_include_directories(firmware.elf PRIVATE model/include runtime/crt runtime/executors platform/common platform/${BOARD})
        target_compile_options(firmware.elf PRIVATE -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -pedantic
            ${KILN_BOARD_CFLAGS} ${KILN_CONFIG})
        target_link_options(firmware.elf PRIVATE ${KILN_BOARD_CFLAGS} ${KILN_BOARD_LDFLAGS} -Wl,--gc-sections
            -L${CMAKE_CURRENT_SOURCE_DIR}/platform/common -L${CMAKE_CURRENT_SOURCE_DIR}/platform/${BOARD}
            -T ${CMAKE_CURRENT_SOURCE_DIR}/platform/${BOARD}/linker.ld)
        target_link_libraries(firmware.elf m)
        """.formatted(config);
  }

  private static String readme(DeviceModelWriter writer, String arch, DeviceProgram.Sizes sizes, boolean linked, int jsonBytes) {
    String examples = String.join(", ", EXAMPLES.get(arch));
    return """
        # Kiln firmware project (%s)

        The model's device library (executor: %s), the Kiln device runtime (microTVM-compatible RPC over a UART) and
        the platform code, for a board you bring. Nothing outside this folder is needed but a cross toolchain
        (`%s`) and make or CMake.

        ```
        model/              the model: operators, system library, metadata%s
        runtime/crt/        framing, session, RPC server, device memory (kiln_config.h: pool sizes)
        runtime/executors/  graph and AoT executors
        platform/common/    the shared main (kiln_mcu_main.c) and the board contract kiln_board.h%s
        platform/board/     YOUR BOARD: board.c (hooks), linker.ld (memory map), board.mk / board.cmake (compiler flags)
        platform/qemu-*/    complete examples for QEMU's emulated boards: %s
        ```

        ## 1. Fill in platform/board

        `platform/board/board.c` implements the five hooks of `platform/common/kiln_board.h`; delete its `#error` when done:

        | hook | what it must do |
        |---|---|
        | `void kiln_board_init(void)` | clocks, pins, the UART at 115200 8N1 (receiver enabled last), the timer |
        | `void kiln_board_uart_write(uint8_t byte)` | wait until the transmitter takes a byte, write it; never drop one |
        | `uint8_t kiln_board_uart_read(void)` | wait for a received byte and return it |
        | `uint64_t kiln_board_time_ns(void)` | nanoseconds since init, monotonic (the time evaluator measures with it)%s |
        | `void kiln_board_stop(int32_t code, const char *reason)` | stop for good: the runtime already sent the reason to the host as a log; halt or reset |

        Then set the memory regions in `platform/board/linker.ld` and the CPU flags in `platform/board/board.mk`
        (and `board.cmake`). The examples show each hook for a real UART model (CMSDK, nRF51, NS16550A).

        ## 2. Build

        ```
        make                              # platform/board -> build/board/firmware.elf and .bin
        make BOARD=qemu-mps2-an386        # an example
        cmake -B build -DBOARD=qemu-mps2-an386 && cmake --build build   # the same with CMake
        ```

        Memory: the runtime is compiled with `%s` (a %d-byte link packet as microTVM's default, and
        %d bytes of device memory for the executor's tables and the arrays the host sends). `size` prints flash and RAM.

        ## 3. Flash and drive it from Kiln

        Flash `firmware.elf`/`.bin` with your vendor's tool, then from Java or a notebook:

        ```java
        var build = Kiln.load("model.tflite").build(%s);   // the executor this project was made with
        try (var dev = build.flash(Device.serial("/dev/ttyACM0"))) { ... }
        ```

        An emulated example: `make BOARD=qemu-mps2-an386 run` boots it in QEMU with the UART on a pseudo-terminal,
        or from Kiln `build.flash(Device.qemu("mps2-an386").firmware(Path.of("build/qemu-mps2-an386/firmware.elf")))`.
        %s
        """.formatted(arch, writer.config(), arch.equals("cortex-m") ? "arm-none-eabi-gcc" : "riscv64-unknown-elf-gcc with picolibc",
        linked ? " (the graph JSON is linked: model/src/kiln_linked_graph.c)" : "",
        arch.equals("cortex-m") ? ", Cortex-M start-up (vector table, reset, faults), SysTick clock, section layout" : "",
        examples, arch.equals("cortex-m") ? "; `kiln_cortex_m_time_ns()` from SysTick is ready to use" : "",
        "KILN_CONFIG = -DKILN_MAX_PACKET_BYTES=" + sizes.packetBytes() + " -DKILN_ARENA_BYTES=" + sizes.arenaBytes() + "u",
        sizes.packetBytes(), sizes.arenaBytes(), writer.config().isGraph() ? "Executor.graph()" : "Executor.aot()",
        writer.config().isGraph()
            ? (linked ? "\nThe graph JSON (" + jsonBytes + " bytes) does not fit one packet, so it is linked into the firmware and the host creates"
                + "\nthe graph executor without sending it (Kiln decides the same way from the device's packet size).\n"
                : "\nThe graph JSON (" + jsonBytes + " bytes) fits one packet: the host sends it when it creates the executor.\n")
            : "");
  }
}
