package dev.kiln.rpc;

import static dev.kiln.rpc.WireVectors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The RPC client driving a recorded v0.18 microTVM CRT device: every request must match the
 * recorded host bytes and every recorded device reply must decode to the recorded meaning.
 */
class MicroTvmReplayTest {
  static final RpcOptions RECORDED = RpcOptions.builder().initialNonce(0x2A).build();

  static ReplayTransport device() {
    return new ReplayTransport().deviceSends(BOOT).step(HOST_TERMINATE + " " + INIT_42, REPLY_2342);
  }

  @Test void getGlobalFunctionSendsTheRecordedRequestAndReadsTheHandle() throws Exception {
    ReplayTransport t = device().step(GET_SYSLIB_REQ, GET_SYSLIB_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    RemoteFunction f = c.getGlobalFunction("runtime.SystemLib");
    assertEquals(0x80028000L, f.handle());
    assertTrue(t.finished());
  }

  @Test void systemLibReturnsAModuleWhoseFunctionsAreFoundByName() throws Exception {
    ReplayTransport t = device().step(GET_SYSLIB_REQ, GET_SYSLIB_REPLY).step(SYSLIB_CALL_REQ, SYSLIB_CALL_REPLY)
        .step(Synth.getGlobal("tvm.rpc.server.ModuleGetFunction"), Synth.returnHandle(0x80028001L))
        .step(MODGETFN_ADD_REQ, MODGETFN_ADD_REPLY)
        .step(ADD_INT_REQ, ADD_INT_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    RemoteModule lib = c.systemLib();
    assertEquals(0x8000L, lib.handle());
    RemoteFunction add = lib.getFunction("kiln_add_int");
    assertEquals(0x80008000L, add.handle());
    assertEquals(42L, add.callLong(40, 2));
    assertTrue(t.finished());
  }

  @Test void aMissingModuleFunctionIsAnErrorSayingTheDeviceCannotListItsFunctions() throws Exception {
    ReplayTransport t = device().step(GET_SYSLIB_REQ, GET_SYSLIB_REPLY).step(SYSLIB_CALL_REQ, SYSLIB_CALL_REPLY)
        .step(Synth.getGlobal("tvm.rpc.server.ModuleGetFunction"), Synth.returnHandle(0x80028001L))
        .step(MODGETFN_MISSING_REQ, MODGETFN_MISSING_REPLY)
        .step(Synth.getGlobal("kiln.rpc.ListFunctions"), Synth.returnHandle(0));
    RpcClient c = RpcClient.open(t, RECORDED);
    NoSuchFunctionException e = assertThrows(NoSuchFunctionException.class, () -> c.systemLib().getFunction("kiln_missing"));
    assertEquals("no function 'kiln_missing' in RemoteModule(module, 0x8000); the device cannot list its functions "
        + "(kiln.rpc.ListFunctions is missing: a microTVM device?)", e.getMessage());
  }

  @Test void anUnknownGlobalNameIsAnErrorNamingIt() throws Exception {
    ReplayTransport t = device().step(GET_MISSING_REQ, GET_MISSING_REPLY)
        .step(Synth.getGlobal("kiln.rpc.ListFunctions"), Synth.returnHandle(0));
    RpcClient c = RpcClient.open(t, RECORDED);
    NoSuchFunctionException e = assertThrows(NoSuchFunctionException.class, () -> c.getGlobalFunction("no.such.function"));
    assertTrue(e.getMessage().startsWith("no function 'no.such.function' among the device's global functions"));
    assertTrue(c.isOpen());
  }

  @Test void callsEncodeIntsAndFloatsAndDecodeTheirResults() throws Exception {
    ReplayTransport t = device().step(ADD_INT_REQ, ADD_INT_REPLY).step(MUL_FLOAT_REQ, MUL_FLOAT_REPLY)
        .step(MAX_PACKET_CALL_REQ, MAX_PACKET_CALL_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    assertEquals(42L, new RemoteFunction(c, 0x80008000L, "kiln_add_int").call(40, 2));
    assertEquals(-3.375, new RemoteFunction(c, 0x80008001L, "kiln_mul_float").call(1.5, -2.25));
    assertEquals(2037L, new RemoteFunction(c, 0x80028003L, "GetCRTMaxPacketSize").call()); // zero-argument call
    assertTrue(t.finished());
  }

  @Test void aDeviceExceptionCarriesItsMessageAndTheSessionGoesOn() throws Exception {
    ReplayTransport t = device().step(FAIL_REQ, FAIL_REPLY).step(ADD_INT_REQ, ADD_INT_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    RemoteException e = assertThrows(RemoteException.class, () -> new RemoteFunction(c, 0x80008005L, "kiln_fail").call());
    assertEquals("kiln_fail: deliberate failure", e.deviceMessage());
    assertEquals("CallFunc(kiln_fail) failed on the device: kiln_fail: deliberate failure", e.getMessage());
    assertEquals(42L, new RemoteFunction(c, 0x80008000L, "kiln_add_int").callLong(40, 2));
  }

  @Test void aLogDuringACallIsDeliveredAndTheReplyStillArrives() throws Exception {
    List<String> logs = new ArrayList<>();
    ReplayTransport t = device().step(LOG_REQ, LOG_FRAME + " " + LOG_CALL_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED.toBuilder().logListener(logs::add).build());
    assertNull(new RemoteFunction(c, 0x80008004L, "kiln_log").call("hello kiln"));
    assertEquals(List.of("hello kiln"), logs);
  }

  @Test void memoryRoundTripMatchesTheRecordingIncludingTheCopyChunkQuery() throws Exception {
    byte[] data = hex("00 01 02 03 fd fe ff ff 10 11 12 13 14 15 16 17");
    ReplayTransport t = device().step(ALLOC16_REQ, ALLOC16_REPLY)
        .step(GET_MAX_PACKET_REQ, Synth.returnHandle(0x80028003L)).step(MAX_PACKET_CALL_REQ, MAX_PACKET_CALL_REPLY)
        .step(COPY_TO16_REQ, COPY_TO16_REPLY).step(COPY_FROM16_REQ, COPY_FROM16_ACK).step(FREE16_REQ, FREE16_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    try (RemoteNDArray a = c.empty(new long[] {16}, DataType.UINT8)) {
      assertEquals(0x0000555555571ca0L, a.record().data());
      a.copyFrom(data);
      assertArrayEquals(data, a.toByteArray());
    }
    assertTrue(t.finished());
  }

  @Test void chunkedCopiesUseTheRecordedBlockSizesAndOffsets() throws Exception {
    // float32[3001] = 12004 bytes, max transfer 2037: blocks of 1985, offsets 0, 1985, ..., 11910 (94 bytes)
    ReplayTransport t = device().step(GET_MAX_PACKET_REQ, Synth.returnHandle(0x80028003L))
        .step(MAX_PACKET_CALL_REQ, MAX_PACKET_CALL_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    assertEquals(1985, c.copyBlock(1));
    TensorRecord r = new TensorRecord(0x0000555555571da0L, Device.CPU, DataType.FLOAT32, new long[] {3001}, 0);
    byte[] head = new PacketWriter(64).i32(RpcCode.COPY_TO_REMOTE).tensor(r.withByteOffset(5955)).u64(1985).finish();
    // the recorded fourth block starts with these fields (after the 8-byte RPC length f5 07 ...)
    String recorded = CHUNK3_HEAD.substring("ff fd 00 08 00 00 42 23 10 f5 07 00 00 00 00 00 00 ".length());
    String ours = FramingTest.hexOf(java.util.Arrays.copyOfRange(head, 8, head.length));
    assertTrue(recorded.startsWith(ours), ours + "\n" + recorded);
    String lastFrom = Synth.frame(0x2342,
        new PacketWriter(64).i32(RpcCode.COPY_FROM_REMOTE).tensor(r.withByteOffset(11910)).u64(94).finish());
    assertEquals(CHUNK_LAST_FROM_REQ, lastFrom);
  }

  @Test void anNdArrayResultIsThreeValuesAndIsReleasedWithFreeHandle13() throws Exception {
    ReplayTransport t = device().step(GET_INPUT_REQ, GET_INPUT_REPLY).step(FREE_ND_REQ, FREE_ND_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    Object r = new RemoteFunction(c, 0x80018000L, "get_input").call("x");
    RemoteNDArray a = assertInstanceOf(RemoteNDArray.class, r);
    assertEquals(0x00005555555731a0L, a.record().data());
    assertEquals(0x00005555555734a0L, a.ndHandle());
    assertArrayEquals(new long[] {2, 3}, a.shape());
    assertEquals(DataType.FLOAT32, a.dtype());
    a.close();
    a.close(); // idempotent: no second FreeHandle
    assertTrue(t.finished());
  }

  @Test void timeEvaluatorCallsEncodeTwelveArgumentsAndReturnBytes() throws Exception {
    ReplayTransport t = device().step(TIME_EVAL_REQ, TIME_EVAL_REPLY).step(TIME_EVAL_CALL_REQ, TIME_EVAL_CALL_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    RemoteModule lib = new RemoteModule(c, 0x8000, "syslib");
    Object f = new RemoteFunction(c, 0x80028002L, "runtime.RPCTimeEvaluator")
        .call(lib, "kiln_spin", 1, 0, 5, 3, 0, 100, 0, 1, 0, "");
    RemoteFunction timer = assertInstanceOf(RemoteFunction.class, f);
    assertEquals(0xFFFF8001L, timer.handle());
    byte[] seconds = assertInstanceOf(byte[].class, timer.call());
    assertEquals(24, seconds.length);
  }

  @Test void deviceAttributesFallBackToTheHostWhenGetAttrIsNotSupported() throws Exception {
    ReplayTransport t = device().step(GET_ATTR_REQ, GET_ATTR_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    assertTrue(c.attribute(0).isEmpty());
    assertTrue(c.isOpen());
  }

  @Test void syscallExceptionsWithEmptyMessagesSaySo() throws Exception {
    ReplayTransport t = device().step(ALLOC_100MIB_REQ, ALLOC_100MIB_REPLY);
    RpcClient c = RpcClient.open(t, RECORDED);
    RemoteException e = assertThrows(RemoteException.class, () -> c.empty(new long[] {25 << 20}, DataType.FLOAT32));
    assertEquals("DevAllocData(104857600 bytes for float32[26214400]) failed on the device: (the device gave no message)",
        e.getMessage());
  }

  @Test void shutdownSendsTheRecordedPacketAndDoesNotWaitForAReply() throws Exception {
    ReplayTransport t = device().step(SHUTDOWN_REQ, "");
    RpcClient c = RpcClient.open(t, RECORDED);
    c.shutdown();
    assertTrue(t.finished());
    assertTrue(t.isClosed());
  }

  @Test void aReSessionUsesTheNewSessionId() throws Exception {
    ReplayTransport t = new ReplayTransport().deviceSends(BOOT)
        .step("fe ff fd 03 00 00 00 00 00 02 66 77 ff fd 04 00 00 00 43 00 00 01 6b 2c", REINIT_43_REPLY)
        .step(SYSLIB_6243_REQ, SYSLIB_6243_REPLY);
    RpcClient c = RpcClient.open(t, RpcOptions.builder().initialNonce(0x42).build());
    assertEquals(0x6243, c.session().sessionId());
    assertEquals(0x80028000L, c.getGlobalFunction("runtime.SystemLib").handle());
  }
}
