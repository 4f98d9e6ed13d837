package dev.kiln.rpc;

import static dev.kiln.rpc.WireVectors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.transport.LinkClosedException;
import dev.kiln.transport.LinkCorruptedException;
import dev.kiln.transport.LinkTimeoutException;
import dev.kiln.transport.ProcessTransport;
import dev.kiln.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * End to end against the real host device program (runtime + platform/host + the test system
 * library), compiled with gcc -std=c99 -Wall -Wextra -Werror -pedantic and run over real pipes.
 */
class HostDeviceTest {
  static final ScheduledExecutorService KILLER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "test-killer");
    t.setDaemon(true);
    return t;
  });

  @AfterAll static void stopKiller() { KILLER.shutdownNow(); }

  static RpcClient open(RpcOptions options) throws Exception {
    return RpcClient.open(TestDevice.start(), options);
  }

  static RpcClient open() throws Exception { return open(RpcOptions.defaults()); }

  @Test void theDeviceAnswersTheRecordedRequestsByteForByte() throws Exception {
    // good-path vectors without device addresses, fed in one go, with the recorded device nonce
    List<String[]> pairs = List.of(
        new String[] {HOST_TERMINATE + " " + INIT_42, REPLY_2342},
        new String[] {GET_SYSLIB_REQ, GET_SYSLIB_REPLY},
        new String[] {GET_MISSING_REQ, GET_MISSING_REPLY},
        new String[] {MAX_PACKET_CALL_REQ, MAX_PACKET_CALL_REPLY},
        new String[] {SYSLIB_CALL_REQ, SYSLIB_CALL_REPLY},
        new String[] {MODGETFN_ADD_REQ, MODGETFN_ADD_REPLY},
        new String[] {MODGETFN_ADD_BOOL_REQ, MODGETFN_ADD_BOOL_REPLY},
        new String[] {MODGETFN_MISSING_REQ, MODGETFN_MISSING_REPLY},
        new String[] {ADD_INT_REQ, ADD_INT_REPLY},
        new String[] {MUL_FLOAT_REQ, MUL_FLOAT_REPLY},
        new String[] {FAIL_REQ, FAIL_REPLY},
        new String[] {ARG_CODES_REQ, ARG_CODES_REPLY},
        new String[] {ECHO_FF_REQ, ECHO_FF_REPLY},
        new String[] {STRLEN_CRC104_REQ, STRLEN_CRC104_REPLY},
        new String[] {ECHO_D63_REQ, ECHO_D63_REPLY},
        new String[] {SYSLIB_WITH_FFFE_REQ, SYSLIB_WITH_FFFE_REPLY},
        new String[] {LOG_REQ, LOG_FRAME + " " + LOG_CALL_REPLY},
        new String[] {GET_MAX_PACKET_REQ, Synth.returnHandle(0x80028003L)},
        new String[] {GET_RANDOM_FILL_REQ, GET_RANDOM_FILL_REPLY},
        new String[] {TIME_EVAL_REQ, TIME_EVAL_REPLY},
        new String[] {REINIT_43, REINIT_43_REPLY},
        new String[] {SYSLIB_6243_REQ, SYSLIB_6243_REPLY},
        new String[] {"ff fd 0f 00 00 00 43 62 10 04 00 00 00 00 00 00 00 01 00 00 00 "
            + SessionHandshakeTest.crcOf("ff fd 0f 00 00 00 43 62 10 04 00 00 00 00 00 00 00 01 00 00 00"), ""});
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    StringBuilder expected = new StringBuilder(BOOT);
    for (String[] p : pairs) {
      in.write(hex(p[0]));
      if (!p[1].isEmpty()) expected.append(' ').append(p[1]);
    }
    Process proc = new ProcessBuilder(TestDevice.program().toString(), "--random-byte", "0x59").start();
    proc.getOutputStream().write(in.toByteArray());
    proc.getOutputStream().close();
    byte[] out = proc.getInputStream().readAllBytes();
    assertTrue(proc.waitFor(5, TimeUnit.SECONDS));
    assertEquals(expected.toString(), FramingTest.hexOf(out));
    assertEquals(0, proc.exitValue(), "exit status after kShutdown");
  }

  @Test void callsRegisteredFunctionsWithEveryKindOfValue() throws Exception {
    List<String> logs = Collections.synchronizedList(new ArrayList<>());
    try (RpcClient c = open(RpcOptions.builder().logListener(logs::add).build())) {
      assertEquals(42L, c.function("kiln_add_int").callLong(40, 2));
      assertEquals(-3.375, c.function("kiln_mul_float").call(1.5, -2.25));
      assertEquals("grüße", c.function("kiln_echo_str").call("grüße"));
      assertEquals(7L, c.function("kiln_strlen").call("seven!!"));
      assertEquals(3L, c.function("kiln_nargs").call(1, "two", null));
      assertEquals(0x0c0605040f020400L, c.function("kiln_arg_codes").call(1, null, 0.5, true, null,
          DataType.FLOAT32, Device.CPU, new byte[] {1}));
      assertEquals(null, c.function("kiln_log").call("hello kiln"));
      assertEquals(List.of("hello kiln"), logs);
      assertTrue(c.function("runtime.SystemLib").call() instanceof RemoteModule);
      try (RemoteNDArray a = assertInstanceOf(RemoteNDArray.class, c.function("kiln_make_ndarray").call(5000))) {
        byte[] bytes = a.toByteArray();
        assertEquals(5000, bytes.length);
        for (int i = 0; i < bytes.length; i++) assertEquals((byte) (i * 7), bytes[i]);
        assertEquals(sum(bytes), c.function("kiln_sum_bytes").callLong(a));
      }
      c.shutdown();
    }
  }

  static long sum(byte[] b) {
    long s = 0;
    for (byte x : b) s += x & 0xFF;
    return s;
  }

  @Test void copiesOneMebibyteToAndFromTheDevice() throws Exception {
    byte[] data = new byte[1 << 20];
    new Random(7).nextBytes(data);
    try (RpcClient c = open(); RemoteNDArray a = c.empty(new long[] {1 << 20}, DataType.UINT8)) {
      a.copyFrom(data);
      assertEquals(sum(data), c.function("kiln_sum_bytes").callLong(a));
      assertArrayEquals(data, a.toByteArray());
    }
  }

  @Test void sixtyFourKibPacketsFullOfEscapesStreamInPiecesBothWaysAndArriveIntact() throws Exception {
    // frames of 64 KiB, a third of the bytes are FF, doubled on the wire
    byte[] data = new byte[300_000];
    Random r = new Random(9);
    for (int i = 0; i < data.length; i++) data[i] = r.nextInt(3) == 0 ? (byte) 0xFF : (byte) r.nextInt(256);
    try (RpcClient c = RpcClient.open(Transport.process(List.of(TestDevice.program(65536).toString())));
        RemoteNDArray a = c.empty(new long[] {data.length}, DataType.UINT8)) {
      assertTrue(c.copyBlock(1) > 60_000, "copy block " + c.copyBlock(1));
      a.copyFrom(data);
      assertEquals(sum(data), c.function("kiln_sum_bytes").callLong(a));
      assertArrayEquals(data, a.toByteArray());
    }
  }

  @Test void copyToFillsTheCallersBufferAndRefusesOneOfTheWrongSize() throws Exception {
    byte[] data = new byte[200_000];
    new Random(10).nextBytes(data);
    try (RpcClient c = RpcClient.open(Transport.process(List.of(TestDevice.program(65536).toString())));
        RemoteNDArray a = c.empty(new long[] {data.length}, DataType.UINT8)) {
      a.copyFrom(data);
      byte[] back = new byte[data.length];
      for (int round = 0; round < 2; round++) { // the same buffer twice: every byte written each time
        java.util.Arrays.fill(back, (byte) round);
        a.copyTo(back);
        assertArrayEquals(data, back);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.copyTo(new byte[10]));
      assertEquals("out.length != numBytes: 10 != 200000 (uint8[200000])", e.getMessage());
    }
  }

  @Test void anUnknownFunctionIsAnErrorNamingItAndListingWhatExists() throws Exception {
    try (RpcClient c = open()) {
      NoSuchFunctionException e = assertThrows(NoSuchFunctionException.class, () -> c.function("kiln_nope"));
      assertTrue(e.getMessage().startsWith("no function 'kiln_nope' among the device's global functions or its system "
          + "library; it has: runtime.SystemLib, tvm.rpc.server.ModuleGetFunction, "), e.getMessage());
      assertTrue(e.available().contains("kiln_add_int"));
      assertTrue(e.available().contains("kiln.rpc.ListFunctions"));
      assertEquals(3L, c.function("kiln_add_int").callLong(1, 2), "the session goes on");
    }
  }

  @Test void aDeviceErrorCarriesTheDeviceMessageAndTheSessionGoesOn() throws Exception {
    try (RpcClient c = open()) {
      RemoteException e = assertThrows(RemoteException.class, () -> c.function("kiln_fail").call());
      assertEquals("kiln_fail: deliberate failure", e.deviceMessage());
      RemoteException bad = assertThrows(RemoteException.class, () -> c.freeData(0x1234));
      assertEquals("DevFreeData: 0x1234 was not handed out by DevAllocData", bad.deviceMessage());
      RemoteException args = assertThrows(RemoteException.class, () -> c.function("kiln_add_int").call(1));
      assertEquals("kiln_add_int expects 2 arguments, got 1", args.deviceMessage());
      assertEquals(5L, c.function("kiln_add_int").callLong(2, 3));
    }
  }

  @Test void killingTheDeviceMidCallReportsTheSignalAndANewSessionWorks() throws Exception {
    RpcClient c = open();
    RemoteFunction sleep = c.function("kiln_sleep_ms");
    long pid = ((ProcessTransport) c.session().transport()).pid();
    KILLER.schedule(() -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly), 200, TimeUnit.MILLISECONDS);
    LinkClosedException e = assertThrows(LinkClosedException.class, () -> sleep.call(10_000));
    assertTrue(e.getMessage().startsWith("CallFunc(kiln_sleep_ms): read from process(kiln-device, pid " + pid
        + ") failed: device program kiln-device (pid " + pid + ") was killed by signal 9 (SIGKILL), exit status 137; "
        + "it printed nothing on stderr"), e.getMessage());
    assertFalse(c.isOpen());
    LinkClosedException after = assertThrows(LinkClosedException.class, () -> sleep.call(1));
    assertTrue(after.getMessage().startsWith("CallFunc(kiln_sleep_ms): this client is closed after: "), after.getMessage());
    try (RpcClient again = open()) {
      assertEquals(42L, again.function("kiln_add_int").callLong(40, 2));
    }
  }

  @Test void aDeviceThatExitsMidCallReportsItsStatusAndStderr() throws Exception {
    try (RpcClient c = open()) {
      LinkClosedException e = assertThrows(LinkClosedException.class, () -> c.function("kiln_exit").call(7));
      assertTrue(e.getMessage().contains("exited with status 7; it printed nothing on stderr"), e.getMessage());
    }
    try (RpcClient c = open()) {
      LinkClosedException e = assertThrows(LinkClosedException.class, () -> c.function("kiln_crash").call());
      assertTrue(e.getMessage().contains("was killed by signal 11 (SIGSEGV)"), e.getMessage());
    }
  }

  @Test void anAbortRaisesAnExceptionCarryingTheDeviceReason() throws Exception {
    try (RpcClient c = open()) {
      DeviceAbortedException e = assertThrows(DeviceAbortedException.class,
          () -> c.function("kiln_abort_with").call("weights checksum mismatch in layer 3"));
      assertEquals("weights checksum mismatch in layer 3", e.reason());
      assertEquals(0x0500, e.code());
      assertTrue(e.getMessage().startsWith("CallFunc(kiln_abort_with): the device aborted: weights checksum mismatch in "
          + "layer 3 (code 0x0500); read from process(kiln-device"), e.getMessage());
      assertTrue(e.getMessage().contains("exited with status 3; last stderr lines:\n  kiln abort 0x0500: weights checksum"
          + " mismatch in layer 3"), e.getMessage());
    }
  }

  @Test void aStalledDeviceTimesOutNamingTheCallAndTheWait() throws Exception {
    RpcClient c = open(RpcOptions.builder().replyTimeout(Duration.ofMillis(300)).build());
    long start = System.nanoTime();
    LinkTimeoutException e = assertThrows(LinkTimeoutException.class, () -> c.function("kiln_sleep_ms").call(20_000));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms < 3000, ms + " ms");
    assertTrue(e.getMessage().startsWith("CallFunc(kiln_sleep_ms): no reply after "), e.getMessage());
    assertTrue(e.getMessage().contains(" (reply timeout 300 ms); read from process(kiln-device"), e.getMessage());
    assertTrue(e.getMessage().endsWith("; the device program was stopped"), e.getMessage());
    try (RpcClient again = open()) {
      assertEquals(2L, again.function("kiln_add_int").callLong(1, 1));
    }
  }

  /**
   * The payload of a frame the session would send to call {@code f}: session id (little-endian), a normal
   * message's type and the CallFunc request. Tests frame it themselves to damage it on the way.
   */
  private static byte[] callFuncPayload(RpcClient c, RemoteFunction f, List<Value> args) {
    byte[] call = new PacketWriter(64).i32(RpcCode.CALL_FUNC).u64(f.handle()).args(args).finish();
    byte[] payload = new byte[3 + call.length];
    payload[0] = (byte) c.session().sessionId();
    payload[1] = (byte) (c.session().sessionId() >>> 8);
    payload[2] = (byte) Session.TYPE_NORMAL;
    System.arraycopy(call, 0, payload, 3, call.length);
    return payload;
  }

  /**
   * The payload framed, with one payload byte changed so the CRC no longer matches: a zero byte from
   * the middle on becomes 1, so no escape byte (0xFF) is made or lost and the frame keeps its length
   * (damaging the CRC itself could make an 0xFF that swallows the next frame's first byte).
   */
  private static byte[] badCrcFrame(byte[] payload) {
    byte[] frame = Framer.encode(payload, 0, payload.length, false);
    for (int i = frame.length / 2; i < frame.length - 2; i++) {
      if (frame[i] == 0 && frame[i - 1] != (byte) 0xFF) {
        frame[i] = 1;
        return frame;
      }
    }
    throw new AssertionError("no zero byte to damage in " + java.util.Arrays.toString(frame));
  }

  @Test void garbageAndBadCrcFramesAreDroppedReportedAndNeverExecuted() throws Exception {
    List<String> logs = Collections.synchronizedList(new ArrayList<>());
    try (RpcClient c = open(RpcOptions.builder().logListener(logs::add).build())) {
      RemoteFunction exit = c.function("kiln_exit");
      RemoteFunction add = c.function("kiln_add_int");
      byte[] payload = callFuncPayload(c, exit, List.of(Value.ofInt(9)));
      byte[] frame = badCrcFrame(payload); // executing this would end the device with status 9
      c.session().sendRaw("line noise\n".getBytes());
      c.session().sendRaw(frame);
      assertEquals(7L, add.callLong(3, 4));
      assertTrue(logs.contains("kiln link: ignored 11 bytes outside frames"), logs.toString());
      assertTrue(logs.stream().anyMatch(l -> l.startsWith("kiln link: dropped frame of 39 bytes: CRC 0x")), logs.toString());
    }
  }

  @Test void aDroppedFrameOfAnotherSizeIsNotBlamedOnTheRequestInFlight() throws Exception {
    // stray bytes dropped while a slow call runs: the device names the dropped frame's size, which is none of ours
    List<String> logs = Collections.synchronizedList(new ArrayList<>());
    try (RpcClient c = open(RpcOptions.builder().dropGrace(Duration.ofMillis(50)).logListener(logs::add).build())) {
      RemoteFunction exit = c.function("kiln_exit");
      RemoteFunction sleep = c.function("kiln_sleep_ms");
      // a size no request of this session has
      byte[] payload = callFuncPayload(c, exit, Collections.nCopies(7, Value.ofInt(9)));
      byte[] frame = badCrcFrame(payload);
      c.session().sendRaw(frame);
      long start = System.nanoTime();
      sleep.call(300); // outlives the 50 ms drop grace and still answers
      assertTrue((System.nanoTime() - start) / 1_000_000 >= 300);
      assertTrue(logs.stream().anyMatch(l -> l.startsWith("kiln link: dropped frame of " + payload.length + " bytes")), logs.toString());
    }
  }

  @Test void aRequestTheDeviceDropsFailsFastAsCorruptedInsteadOfHanging() throws Exception {
    RpcClient c = open(RpcOptions.builder().dropGrace(Duration.ofMillis(200)).build());
    byte[] bad = hex(BAD_CRC_REQ); // GetGlobalFunc with a damaged CRC, session 0x2342
    bad[6] = (byte) c.session().sessionId();
    bad[7] = (byte) (c.session().sessionId() >>> 8);
    c.session().sendDamagedRequest(bad, 48);
    long start = System.nanoTime();
    LinkCorruptedException e = assertThrows(LinkCorruptedException.class,
        () -> c.session().receive("GetGlobalFunc(runtime.SystemLib)", Duration.ofSeconds(10)));
    assertTrue((System.nanoTime() - start) / 1_000_000 < 2000);
    assertTrue(e.getMessage().startsWith("GetGlobalFunc(runtime.SystemLib): no reply; the device reported: kiln link: "
        + "dropped frame of 48 bytes: CRC 0x"), e.getMessage());
  }

  @Test void unknownMessageTypesAndMalformedPacketsGetAnswersAndTheDeviceKeepsServing() throws Exception {
    List<String> logs = Collections.synchronizedList(new ArrayList<>());
    try (RpcClient c = open(RpcOptions.builder().logListener(logs::add).build())) {
      int sid = c.session().sessionId();
      byte[] unknownType = {(byte) sid, (byte) (sid >>> 8), 0x42, 0, 1};
      c.session().sendRaw(Framer.encode(unknownType, 0, unknownType.length, false));
      Reply r = c.exchange("RPC code 99", new PacketWriter(8).i32(99).finish());
      assertEquals("unknown RPC code 99", r.exceptionMessage());
      Reply split = c.exchange("short", new PacketWriter(8).i32(RpcCode.CALL_FUNC).u64(0x80008000L).i32(2).finish());
      assertEquals("malformed CallFunc packet: the packet ends early", split.exceptionMessage());
      assertTrue(logs.contains("kiln link: dropped message of unknown type 0x42"), logs.toString());
      assertEquals(9L, c.function("kiln_add_int").callLong(4, 5));
    }
  }

  @Test void theTimeEvaluatorTimesASystemLibraryFunctionOnTheDevice() throws Exception {
    try (RpcClient c = open()) {
      RemoteFunction evaluator = c.getGlobalFunction("runtime.RPCTimeEvaluator");
      Object timer = evaluator.call(c.systemLib(), "kiln_sleep_ms", 1, 0, 2, 3, 0, 100, 0, 1, 0, "");
      RemoteFunction f = assertInstanceOf(RemoteFunction.class, timer);
      assertEquals(0xFFFF8001L, f.handle());
      byte[] result = assertInstanceOf(byte[].class, f.call(3));
      assertEquals(24, result.length);
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(result).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 3; i++) {
        double s = b.getDouble();
        assertTrue(s >= 0.003 && s < 0.1, "seconds per call " + s);
      }
      RemoteException e = assertThrows(RemoteException.class,
          () -> evaluator.call(c.systemLib(), "kiln_nope", 1, 0, 2, 3, 0, 100, 0, 1, 0, ""));
      assertEquals("runtime.RPCTimeEvaluator: no function 'kiln_nope' in module kiln_test", e.deviceMessage());
    }
  }

  @Test void deviceAttributesReportMemoryAndPacketSize() throws Exception {
    try (RpcClient c = open()) {
      DeviceAttributes a = c.attributes();
      assertTrue(a.exists());
      assertEquals(2L << 20, a.totalMemoryBytes().orElseThrow());
      assertEquals(2L << 20, a.availableMemoryBytes().orElseThrow());
      assertEquals(2037, a.maxTransferBytes());
      try (RemoteNDArray x = c.empty(new long[] {1000}, DataType.UINT8)) {
        assertEquals((2L << 20) - 1024, c.attribute(15).orElseThrow());
      }
      assertTrue(c.attribute(7).isEmpty());
    }
  }

  @Test void shutdownEndsTheDeviceProgram() throws Exception {
    RpcClient c = open();
    long pid = ((ProcessTransport) c.session().transport()).pid();
    c.shutdown();
    c.shutdown(); // idempotent
    assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  @Test void aTooLargeRequestIsRefusedOnTheHostBeforeSending() throws Exception {
    try (RpcClient c = open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> c.function("kiln_strlen").call("x".repeat(5000)));
      assertEquals("CallFunc(kiln_strlen): the request is a 5036-byte RPC packet; the device takes at most 2045 "
          + "(GetCRTMaxPacketSize 2037 + 8)", e.getMessage());
      assertEquals(2000L, c.function("kiln_strlen").callLong("x".repeat(2000)));
    }
  }
}
