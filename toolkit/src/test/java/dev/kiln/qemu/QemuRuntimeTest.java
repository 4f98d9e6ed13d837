package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.codegen.GeneratedFile;
import dev.kiln.project.DeviceProgram;
import dev.kiln.project.Platform;
import dev.kiln.rpc.DeviceAbortedException;
import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RpcClient;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.transport.QemuTransport;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The board runtime under QEMU with a test system library: instruction counts are exact (a loop of
 * 2 instructions per iteration measures 2 per iteration, across SysTick wraps), and an abort or a
 * CPU fault reaches the host as its reason before QEMU exits.
 */
class QemuRuntimeTest {
  static final int SHIFT = 7;
  static Path firmware;

  @BeforeAll static void build() throws Exception {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"), "QEMU not installed");
    String syslib;
    try (InputStream in = QemuRuntimeTest.class.getResourceAsStream("/dev/kiln/qemu/kiln_board_test_syslib.c")) {
      syslib = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    firmware = DeviceProgram.build(List.of(new GeneratedFile("src/kiln_board_test_syslib.c", syslib)),
        new DeviceProgram.Sizes(2048, 64 << 10), Platform.named("qemu-mps2-an386"), List.of("KILN_QEMU_ICOUNT_SHIFT=" + SHIFT),
        DeviceProgram.defaultCache()).executable();
  }

  static RpcClient boot(QemuTransport.Link link) throws Exception {
    List<String> cmd = new ArrayList<>(Platform.named("qemu-mps2-an386").qemu());
    cmd.addAll(List.of("-kernel", firmware.toString(), "-semihosting-config", "enable=on,target=native",
        "-icount", "shift=" + SHIFT + ",sleep=off"));
    return RpcClient.open(QemuTransport.start(cmd, link),
        RpcOptions.builder().handshakeTimeout(Duration.ofSeconds(15)).handshakeRetry(Duration.ofMillis(100)).build());
  }

  /** Instructions in one round of {@code number} calls of kiln_spin(n), from the device's seconds. */
  static long instructions(RpcClient rpc, long n, long number) throws Exception {
    Object timer = rpc.getGlobalFunction("runtime.RPCTimeEvaluator")
        .call(rpc.systemLib(), "kiln_spin", 1L, 0L, number, 1L, 0L, 100L, 0L, 1L, 0L, "");
    byte[] bytes = assertInstanceOf(byte[].class, assertInstanceOf(RemoteFunction.class, timer).call(n));
    double seconds = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getDouble();
    double exact = seconds * number * 1e9 / (1 << SHIFT);
    assertTrue(Math.abs(exact - Math.rint(exact)) < 0.35, "not a whole number of instructions: " + exact);
    return Math.round(exact);
  }

  @Test void instructionCountsAreExactAcrossTimerWraps() throws Exception {
    try (RpcClient rpc = boot(QemuTransport.Link.TCP)) {
      long small = instructions(rpc, 1000, 1);
      // 2 x 5,000,000 instructions: the 24-bit SysTick wraps (every 5.2 M instructions at shift 7) inside the interval
      long large = instructions(rpc, 5_000_000, 1);
      assertEquals(2L * (5_000_000 - 1000), large - small, "2 instructions per iteration, wraps taken out");
      assertEquals(large, instructions(rpc, 5_000_000, 1), "the same count twice");
      long two = instructions(rpc, 1000, 2);
      long perCall = two - small;
      assertTrue(perCall >= 2000 && perCall < 2100, "one call of kiln_spin(1000): " + perCall + " instructions");
      rpc.shutdown();
    }
  }

  @Test void anAbortAndACpuFaultReachTheHostWithTheirReasonBeforeQemuExits() throws Exception {
    try (RpcClient rpc = boot(QemuTransport.Link.PTY)) {
      DeviceAbortedException e = assertThrows(DeviceAbortedException.class,
          () -> rpc.function("kiln_abort_with").call("weights checksum mismatch in layer 3"));
      assertEquals("weights checksum mismatch in layer 3", e.reason());
      assertEquals(0x0500, e.code());
      assertTrue(e.getMessage().contains("exited with status 3 (the firmware stopped itself after an abort)"), e.getMessage());
    }
    try (RpcClient rpc = boot(QemuTransport.Link.TCP)) {
      DeviceAbortedException e = assertThrows(DeviceAbortedException.class, () -> rpc.function("kiln_crash").call());
      assertTrue(e.reason().startsWith("CPU fault (HardFault/MemManage/BusFault/UsageFault): CFSR 0x"), e.reason());
    }
  }
}
