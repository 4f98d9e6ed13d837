package dev.kiln.rpc;

import static dev.kiln.rpc.WireVectors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Packet encodings against the recorded bytes, below the client API. */
class RpcCodecTest {
  static byte[] rpcOf(String frameHex) {
    byte[] payload = FramingTest.decodeAllWays(hex(frameHex)).get(0);
    return Arrays.copyOfRange(payload, 3, payload.length);
  }

  @Test void everyArgumentTypeCodeEncodesAsRecorded() {
    List<Value> args = List.of(new Value(TypeCode.INT, 1L), new Value(TypeCode.UINT, 2L), new Value(TypeCode.FLOAT, 0.5),
        new Value(TypeCode.BOOL, true), new Value(TypeCode.NULLPTR, null), new Value(TypeCode.DATA_TYPE, DataType.FLOAT32),
        new Value(TypeCode.DEVICE, Device.CPU), new Value(TypeCode.BYTES, hex("00 01 ff")));
    byte[] packet = new PacketWriter(64).i32(RpcCode.CALL_FUNC).u64(0x80008009L).args(args).finish();
    assertArrayEquals(rpcOf(ARG_CODES_REQ), packet);
  }

  @Test void syscallsEncodeAsRecorded() {
    Value cpu = new Value(TypeCode.DEVICE, Device.CPU);
    assertArrayEquals(rpcOf(GET_ATTR_REQ),
        new PacketWriter(64).i32(RpcCode.DEV_GET_ATTR).args(List.of(cpu, Value.ofInt(0))).finish());
    assertArrayEquals(rpcOf(SYSCALL21_REQ),
        new PacketWriter(64).i32(RpcCode.DEV_GET_CURRENT_STREAM).args(List.of(cpu)).finish());
    assertArrayEquals(rpcOf(FREE_BAD_REQ),
        new PacketWriter(64).i32(RpcCode.DEV_FREE_DATA).args(List.of(cpu, Value.ofHandle(0x1234))).finish());
    assertArrayEquals(rpcOf(MODGETFN_ADD_BOOL_REQ), new PacketWriter(64).i32(RpcCode.CALL_FUNC).u64(0x80028001L)
        .args(List.of(new Value(TypeCode.MODULE_HANDLE, 0x8000L), Value.ofStr("kiln_add_int"), new Value(TypeCode.BOOL, true)))
        .finish());
  }

  @Test void copiesEncodeTheirTensorRecordAsRecorded() {
    TensorRecord t = new TensorRecord(0x0000555555571da0L, Device.CPU, DataType.FLOAT32, new long[] {3001}, 0);
    assertArrayEquals(rpcOf(COPY_FROM_FF_REQ),
        new PacketWriter(64).i32(RpcCode.COPY_FROM_REMOTE).tensor(t).u64(12).finish());
  }

  @Test void everyRecordedReplyShapeDecodes() throws Exception {
    assertEquals(List.of(Value.ofInt(0), Value.ofInt(6)), Reply.parse("t", rpcOf(STRLEN_CRC104_REPLY)).values());
    assertEquals(List.of(Value.ofInt(2), new Value(TypeCode.FLOAT, -3.375)), Reply.parse("t", rpcOf(MUL_FLOAT_REPLY)).values());
    assertEquals(List.of(Value.ofInt(4), new Value(TypeCode.NULLPTR, null)), Reply.parse("t", rpcOf(MODGETFN_MISSING_REPLY)).values());
    assertEquals(List.of(new Value(TypeCode.NULLPTR, null)), Reply.parse("t", rpcOf(FREE16_REPLY)).values());
    assertEquals("Syscall not recognized", Reply.parse("t", rpcOf(SYSCALL21_REPLY)).exceptionMessage());
    assertEquals("", Reply.parse("t", rpcOf(ALLOC_100MIB_REPLY)).exceptionMessage());
    assertEquals(List.of(Value.ofInt(0), Value.ofInt(0x0c0605040f020100L)), Reply.parse("t", rpcOf(ARG_CODES_REPLY)).values());
    Reply echo = Reply.parse("t", rpcOf(ECHO_D63_REPLY));
    assertEquals(List.of(Value.ofInt(11), Value.ofStr("d63")), echo.values());
    assertArrayEquals(hex("ff ff ff ff ff ff ff ff 00 fd fe ff"), Reply.parse("t", rpcOf(COPY_FROM_FF_ACK)).copyData());
  }
}
