package dev.kiln.rpc;

import dev.kiln.transport.LinkClosedException;
import dev.kiln.transport.LinkCorruptedException;
import dev.kiln.transport.LinkException;
import dev.kiln.transport.Transport;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/**
 * A TVM RPC client over a microTVM session: look up functions, call them, allocate device arrays
 * and copy them in chunks, read device attributes, shut the device down. Works with Kiln devices and
 * with microTVM's CRT (v0.18 wire format): handles are opaque, NDArray results come as three
 * values, GetGlobalFunc answers a missing name with handle 0, kShutdown gets no reply.
 *
 * <p>Failures: a {@link dev.kiln.transport.LinkException} (an IOException) means the link is gone
 * and this client is closed; a {@link RemoteException} means the device answered with an error
 * and the client can go on; usage errors ({@link NoSuchFunctionException}, wrong argument types,
 * packets too big for the device) are thrown before or instead of sending. Open a new client over
 * a new transport after a link failure. Not thread-safe.
 */
public final class RpcClient implements Closeable {
  public static final String MAX_PACKET_FUNCTION = "tvm.rpc.server.GetCRTMaxPacketSize";
  static final String LIST_FUNCTIONS = "kiln.rpc.ListFunctions";
  static final String MODULE_GET_FUNCTION = "tvm.rpc.server.ModuleGetFunction";
  /** Packets up to this size are sent without first asking the device for its packet limit. */
  static final int SMALL_PACKET = 1024;

  private final Session session;
  private final RpcOptions options;
  private long maxTransfer = -1;
  private Long moduleGetFunction;
  private Long listFunctions;
  private RemoteModule systemLib;
  private IOException failure;
  private boolean closed;
  /** When the last exchange started ({@link System#nanoTime}); the client's creation before any. */
  private volatile long lastExchangeNanos = System.nanoTime();
  /** The request answered last, and the one before it: a reply that does not fit a call most likely belongs to the one before. */
  private String lastCall;
  private String priorCall;

  private RpcClient(Session session, RpcOptions options) {
    this.session = session;
    this.options = options;
  }

  /** Handshakes over {@code transport} with default options. */
  public static RpcClient open(Transport transport) throws IOException {
    return open(transport, RpcOptions.defaults());
  }

  /** Handshakes over {@code transport}; the transport is closed if that fails. */
  public static RpcClient open(Transport transport, RpcOptions options) throws IOException {
    return new RpcClient(Session.open(transport, options), options);
  }

  public Session session() { return session; }

  public boolean isOpen() { return !closed; }

  // ---- functions ----

  /**
   * A global function (GetGlobalFunc).
   *
   * @throws NoSuchFunctionException naming what the device has
   */
  public RemoteFunction getGlobalFunction(String name) throws IOException {
    long h = lookupGlobal(name);
    if (h == 0) throw new NoSuchFunctionException(name, "among the device's global functions", globalNames(), canList());
    return new RemoteFunction(this, h, name);
  }

  /** The system library: the model's functions (runtime.SystemLib). */
  public RemoteModule systemLib() throws IOException {
    if (systemLib == null) {
      Object m = getGlobalFunction("runtime.SystemLib").call();
      if (!(m instanceof RemoteModule module)) {
        throw new LinkCorruptedException("runtime.SystemLib returned " + m + ", not a module");
      }
      systemLib = module;
    }
    return systemLib;
  }

  /** A global function, else a system-library function of that name. */
  public RemoteFunction function(String name) throws IOException {
    long h = lookupGlobal(name);
    if (h != 0) return new RemoteFunction(this, h, name);
    RemoteModule lib = systemLib();
    RemoteFunction f = findInModule(lib, name);
    if (f != null) return f;
    List<String> all = new ArrayList<>(globalNames());
    all.addAll(listFunctions(lib));
    throw new NoSuchFunctionException(name, "among the device's global functions or its system library", all, canList());
  }

  private long lookupGlobal(String name) throws IOException {
    Value v = syscall("GetGlobalFunc(" + name + ")", RpcCode.GET_GLOBAL_FUNC, List.of(Value.ofStr(name)));
    return v.asLong();
  }

  private boolean canList() throws IOException {
    if (listFunctions == null) listFunctions = lookupGlobal(LIST_FUNCTIONS);
    return listFunctions != 0;
  }

  private List<String> globalNames() throws IOException {
    if (!canList()) return List.of();
    Object r = new RemoteFunction(this, listFunctions, LIST_FUNCTIONS).call();
    return r instanceof String s ? splitNames(s) : List.of();
  }

  List<String> listFunctions(RemoteModule module) throws IOException {
    if (!canList()) return List.of();
    Object r = new RemoteFunction(this, listFunctions, LIST_FUNCTIONS).call(module);
    return r instanceof String s ? splitNames(s) : List.of();
  }

  private static List<String> splitNames(String s) {
    List<String> names = new ArrayList<>();
    for (String line : s.split("\n")) if (!line.isEmpty()) names.add(line);
    return names;
  }

  RemoteFunction moduleFunction(RemoteModule module, String name) throws IOException {
    RemoteFunction f = findInModule(module, name);
    if (f != null) return f;
    throw new NoSuchFunctionException(name, "in " + module, listFunctions(module), canList());
  }

  private RemoteFunction findInModule(RemoteModule module, String name) throws IOException {
    if (moduleGetFunction == null) {
      moduleGetFunction = lookupGlobal(MODULE_GET_FUNCTION);
      if (moduleGetFunction == 0) throw new NoSuchFunctionException(MODULE_GET_FUNCTION, "on the device", List.of(), false);
    }
    Object r = new RemoteFunction(this, moduleGetFunction, MODULE_GET_FUNCTION).call(module, name, 1L);
    return r instanceof RemoteFunction f ? new RemoteFunction(this, f.handle(), name) : null;
  }

  // ---- calls ----

  Object call(RemoteFunction f, Object[] args) throws IOException {
    List<Value> values = new ArrayList<>(args.length);
    for (int i = 0; i < args.length; i++) values.add(toValue(f.name(), i, args[i]));
    PacketWriter w = new PacketWriter(64).i32(RpcCode.CALL_FUNC).u64(f.handle()).args(values);
    String call = f.callName;
    checkFits(call, w.size());
    Reply r = exchange(call, w.sealFor(0), w.size(), w.sealFor(0), 0, 0, null);
    if (r.code() != RpcCode.RETURN) throw unexpected(call, r);
    return fromCallResult(call, r.values());
  }

  private static Value toValue(String fn, int index, Object o) {
    if (o == null) return new Value(TypeCode.NULLPTR, null);
    if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) {
      return new Value(TypeCode.INT, ((Number) o).longValue());
    }
    if (o instanceof Double || o instanceof Float) return new Value(TypeCode.FLOAT, ((Number) o).doubleValue());
    if (o instanceof Boolean b) return new Value(TypeCode.BOOL, b);
    if (o instanceof String s) return new Value(TypeCode.STR, s);
    if (o instanceof byte[] b) return new Value(TypeCode.BYTES, b);
    if (o instanceof DataType t) return new Value(TypeCode.DATA_TYPE, t);
    if (o instanceof Device d) return new Value(TypeCode.DEVICE, d);
    if (o instanceof TensorRecord t) return new Value(TypeCode.DLTENSOR_HANDLE, t);
    if (o instanceof RemoteNDArray a) return new Value(TypeCode.DLTENSOR_HANDLE, a.record());
    if (o instanceof RemoteFunction f) return new Value(TypeCode.PACKED_FUNC_HANDLE, f.handle());
    if (o instanceof RemoteModule m) return new Value(TypeCode.MODULE_HANDLE, m.handle());
    if (o instanceof RemoteHandle h) return new Value(TypeCode.OPAQUE_HANDLE, h.value());
    throw new IllegalArgumentException(fn + ": argument " + index + " is a " + o.getClass().getName()
        + "; supported: Integer, Long, Short, Byte, Double, Float, Boolean, String, byte[], null, DataType, Device, "
        + "TensorRecord, RemoteNDArray, RemoteFunction, RemoteModule, RemoteHandle");
  }

  /** [kDLInt code][value], or for NDArrays [kDLInt 13][DLTensor][handle]. */
  private Object fromCallResult(String call, List<Value> v) throws LinkCorruptedException {
    if (v.size() < 2 || v.get(0).code() != TypeCode.INT) {
      throw new LinkCorruptedException(call + ": reply " + v + " is not [Int type code, value]");
    }
    int code = (int) v.get(0).asLong();
    Value value = v.get(1);
    switch (code) {
      case TypeCode.NDARRAY_HANDLE -> {
        if (v.size() != 3 || !(value.value() instanceof TensorRecord t) || v.get(2).code() != TypeCode.OPAQUE_HANDLE) {
          throw new LinkCorruptedException(call + ": NDArray reply " + v + " is not [13, DLTensor, handle]");
        }
        return new RemoteNDArray(this, t, v.get(2).asLong(), RemoteNDArray.Owner.NDARRAY);
      }
      case TypeCode.DLTENSOR_HANDLE -> {
        if (!(value.value() instanceof TensorRecord t)) throw new LinkCorruptedException(call + ": reply " + v);
        return new RemoteNDArray(this, t, 0, RemoteNDArray.Owner.VIEW);
      }
      case TypeCode.MODULE_HANDLE -> {
        return new RemoteModule(this, value.asLong(), "module");
      }
      case TypeCode.PACKED_FUNC_HANDLE -> {
        return new RemoteFunction(this, value.asLong(), "function 0x" + Long.toHexString(value.asLong()));
      }
      case TypeCode.OPAQUE_HANDLE, TypeCode.OBJECT_HANDLE -> {
        return new RemoteHandle(value.asLong());
      }
      case TypeCode.NULLPTR -> {
        return null;
      }
      default -> {
        return value.value();
      }
    }
  }

  // ---- memory ----

  /** Allocates a device array (DevAllocData, 64-byte aligned); contents undefined until copied. */
  public RemoteNDArray empty(long[] shape, DataType dtype) throws IOException {
    TensorRecord probe = new TensorRecord(0, Device.CPU, dtype, shape, 0);
    long nbytes = probe.numBytes();
    String call = "DevAllocData(" + nbytes + " bytes for " + dtype + Arrays.toString(shape) + ")";
    Value ptr = syscall(call, RpcCode.DEV_ALLOC_DATA, List.of(new Value(TypeCode.DEVICE, Device.CPU),
        Value.ofInt(nbytes), Value.ofInt(64), new Value(TypeCode.DATA_TYPE, dtype)));
    return new RemoteNDArray(this, new TensorRecord(ptr.asLong(), Device.CPU, dtype, shape, 0), 0,
        RemoteNDArray.Owner.ALLOCATED);
  }

  /** Allocates a device array holding {@code data}. */
  public RemoteNDArray array(byte[] data, long[] shape, DataType dtype) throws IOException {
    RemoteNDArray a = empty(shape, dtype);
    try {
      a.copyFrom(data);
    } catch (IOException | RuntimeException e) {
      if (isOpen()) a.close();
      throw e;
    }
    return a;
  }

  void freeData(long pointer) throws IOException {
    syscall("DevFreeData(0x" + Long.toHexString(pointer) + ")", RpcCode.DEV_FREE_DATA,
        List.of(new Value(TypeCode.DEVICE, Device.CPU), Value.ofHandle(pointer)));
  }

  void freeHandle(long handle, int typeCode) throws IOException {
    syscall("FreeHandle(0x" + Long.toHexString(handle) + ", " + typeCode + ")", RpcCode.FREE_HANDLE,
        List.of(Value.ofHandle(handle), Value.ofInt(typeCode)));
  }

  /** Largest RPC packet body the device takes: GetCRTMaxPacketSize, asked once. */
  public long maxTransfer() throws IOException {
    if (maxTransfer < 0) {
      long h = lookupGlobal(MAX_PACKET_FUNCTION);
      maxTransfer = h == 0 ? Long.MAX_VALUE : new RemoteFunction(this, h, MAX_PACKET_FUNCTION).callLong();
    }
    return maxTransfer;
  }

  /** Bytes of data per copy packet for a tensor of {@code ndim} dimensions. */
  long copyBlock(int ndim) throws IOException {
    long block = maxTransfer() - (44 + 8L * ndim);
    if (block <= 0) throw new LinkCorruptedException("device packet size " + maxTransfer() + " leaves no room for data");
    return Math.min(block, 1 << 30);
  }

  void copyToRemote(TensorRecord t, byte[] data) throws IOException {
    long block = copyBlock(t.ndim());
    String call = "CopyToRemote(" + data.length + " bytes to 0x" + Long.toHexString(t.data()) + ")";
    PacketWriter w = new PacketWriter(52 + 8 * t.ndim());
    if (data.length > block && session.transport().buffersWhileBusy()) {
      // the next packets go out while the device copies this one: the host frames and CRCs packet
      // k+1 as the device unframes and CRCs packet k, and neither waits for a round trip
      int packets = (int) ((data.length + block - 1) / block);
      pipelined(call, packets, block, k -> {
        long off = k * block;
        int n = (int) Math.min(block, data.length - off);
        w.reset().i32(RpcCode.COPY_TO_REMOTE).tensor(t.withByteOffset(t.byteOffset() + off)).u64(n);
        session.queue(w.sealFor(n), 0, w.size(), data, (int) off, n);
      }, (k, r) -> checkCopied(call, r));
      return;
    }
    // packets that go out in one piece: frame the next one while the device handles this one
    boolean overlap = block + 128 <= Framer.CHUNK;
    if (overlap) prepareCopy(w, t, data, 0, block);
    for (long off = 0; off < data.length || (off == 0 && data.length == 0); off += block) {
      int n = (int) Math.min(block, data.length - off);
      Reply r;
      if (overlap) {
        long next = off + block;
        r = exchange(call, null, 0, null, 0, 0, next < data.length ? () -> prepareCopy(w, t, data, next, block) : null);
      } else {
        // the packet's head, then the data framed from where it lies (no copy into the packet)
        w.reset().i32(RpcCode.COPY_TO_REMOTE).tensor(t.withByteOffset(t.byteOffset() + off)).u64(n);
        r = exchange(call, w.sealFor(n), w.size(), data, (int) off, n, null);
      }
      checkCopied(call, r);
      if (data.length == 0) break;
    }
  }

  private void checkCopied(String call, Reply r) throws LinkCorruptedException {
    if (r.code() != RpcCode.RETURN) throw unexpected(call, r);
    if (r.values().size() != 1 || r.values().get(0).code() != TypeCode.NULLPTR) {
      throw new LinkCorruptedException(call + ": reply " + r.values() + " is not the copy's [null]" + strayHint());
    }
  }

  /** Frames the CopyToRemote packet of the block at {@code off}, for the session to send next. */
  private void prepareCopy(PacketWriter w, TensorRecord t, byte[] data, long off, long block) throws IOException {
    int n = (int) Math.min(block, data.length - off);
    w.reset().i32(RpcCode.COPY_TO_REMOTE).tensor(t.withByteOffset(t.byteOffset() + off)).u64(n);
    session.prepare(w.sealFor(n), 0, w.size(), data, (int) off, n);
  }

  byte[] copyFromRemote(TensorRecord t) throws IOException {
    long total = t.numBytes();
    if (total > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("array of " + total + " bytes is too big to copy");
    byte[] out = new byte[(int) total];
    copyFromRemote(t, out);
    return out;
  }

  /** Copies the tensor's bytes into {@code out}, which holds exactly {@code t.numBytes()} bytes (checked by the caller). */
  void copyFromRemote(TensorRecord t, byte[] out) throws IOException {
    long total = out.length;
    long block = copyBlock(t.ndim());
    String call = "CopyFromRemote(" + total + " bytes from 0x" + Long.toHexString(t.data()) + ")";
    if (total > block && session.transport().buffersWhileBusy()) {
      // requests ahead: the device frames block k+1 while the host decodes block k
      PacketWriter w = new PacketWriter(52 + 8 * t.ndim());
      pipelined(call, (int) ((total + block - 1) / block), block, k -> {
        long off = k * block;
        w.reset().i32(RpcCode.COPY_FROM_REMOTE).tensor(t.withByteOffset(t.byteOffset() + off)).u64(Math.min(block, total - off));
        session.queue(w.sealFor(0), 0, w.size(), w.sealFor(0), 0, 0);
      }, (k, r) -> takeCopy(call, r, out, k * block, (int) Math.min(block, total - k * block)));
      return;
    }
    for (long off = 0; off < total; off += block) {
      int n = (int) Math.min(block, total - off);
      PacketWriter w = new PacketWriter(52 + 8 * t.ndim()).i32(RpcCode.COPY_FROM_REMOTE)
          .tensor(t.withByteOffset(t.byteOffset() + off)).u64(n);
      takeCopy(call, exchange(call, w.finish()), out, off, n);
    }
  }

  /** Checks a CopyFromRemote reply for {@code n} bytes at {@code off} and moves them into {@code out}. */
  private void takeCopy(String call, Reply r, byte[] out, long off, int n) throws LinkCorruptedException {
    if (r.code() != RpcCode.COPY_ACK) throw unexpected(call, r);
    if (r.copyLength() != n) {
      throw new LinkCorruptedException(call + ": asked for " + n + " bytes at offset " + off + ", got "
          + r.copyLength() + strayHint());
    }
    System.arraycopy(r.buffer(), r.copyOffset(), out, (int) off, n);
  }

  // ---- device ----

  /** DevGetAttr for one attribute kind (0 exist, 14 total memory, 15 available memory, ...), empty if unsupported. */
  public OptionalLong attribute(int kind) throws IOException {
    try {
      Value v = syscall("DevGetAttr(" + kind + ")", RpcCode.DEV_GET_ATTR,
          List.of(new Value(TypeCode.DEVICE, Device.CPU), Value.ofInt(kind)));
      return v.value() instanceof Long l ? OptionalLong.of(l) : OptionalLong.empty();
    } catch (RemoteException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * One device syscall as a microTVM host sends it, with the device's error raised (a {@link
   * RemoteException}): DevSetDevice [Device {1, 0}], DevGetAttr [Device {1, 0}, Int kind] or
   * DevGetCurrentStream [Device {1, 0}]. Kiln's device answers all three; microTVM's raises (and so
   * does Kiln's in strict microTVM mode). Returns the reply's value (null for void).
   */
  public Object deviceSyscall(int code, long... ints) throws IOException {
    if (code != RpcCode.DEV_SET_DEVICE && code != RpcCode.DEV_GET_ATTR && code != RpcCode.DEV_GET_CURRENT_STREAM) {
      throw new IllegalArgumentException("deviceSyscall takes DEV_SET_DEVICE, DEV_GET_ATTR or DEV_GET_CURRENT_STREAM, not " + code);
    }
    List<Value> args = new java.util.ArrayList<>(List.of(new Value(TypeCode.DEVICE, Device.CPU)));
    for (long v : ints) args.add(Value.ofInt(v));
    return syscall("syscall " + code, code, args).value();
  }

  public DeviceAttributes attributes() throws IOException {
    OptionalLong exists = attribute(0);
    return new DeviceAttributes(exists.isEmpty() || exists.getAsLong() != 0, attribute(14), attribute(15),
        maxTransfer());
  }

  /**
   * Sends RPC kShutdown and closes the link. No reply is awaited (microTVM sends none); a Kiln host
   * device then exits with status 0.
   */
  public void shutdown() throws IOException {
    if (closed) return;
    try {
      session.send(new PacketWriter(4).i32(RpcCode.SHUTDOWN).finish());
    } finally {
      close();
    }
  }

  /** Closes the link without telling the device. */
  @Override public void close() throws IOException {
    if (closed) return;
    closed = true;
    session.close();
  }

  // ---- exchange ----

  /** One syscall with exactly one returned value. */
  private Value syscall(String call, int code, List<Value> args) throws IOException {
    byte[] packet = new PacketWriter(64).i32(code).args(args).finish();
    checkFits(call, packet);
    Reply r = exchange(call, packet);
    if (r.code() != RpcCode.RETURN) throw unexpected(call, r);
    if (r.values().size() != 1) throw new LinkCorruptedException(call + ": reply " + r.values() + " is not one value" + strayHint());
    return r.values().get(0);
  }

  private void checkFits(String call, byte[] packet) throws IOException { checkFits(call, packet.length); }

  private void checkFits(String call, int packetBytes) throws IOException {
    if (packetBytes <= SMALL_PACKET) return;
    long max = maxTransfer();
    if (packetBytes > max + 8) {
      throw new IllegalArgumentException(call + ": the request is a " + packetBytes
          + "-byte RPC packet; the device takes at most " + (max + 8) + " (GetCRTMaxPacketSize " + max + " + 8)");
    }
  }

  private RuntimeException unexpected(String call, Reply r) throws LinkCorruptedException {
    if (r.code() == RpcCode.EXCEPTION) return new RemoteException(call, r.exceptionMessage(), session.callLogs());
    throw new LinkCorruptedException(call + ": unexpected reply code " + r.code() + " (" + RpcCode.name(r.code()) + ")" + strayHint());
  }

  /**
   * For a reply that does not fit the request it came back to: names the request before, which it
   * most likely answers (a duplicated or late frame), or "" if there was none.
   */
  public String strayHint() { return hint(priorCall); }

  private static String hint(String call) {
    return call == null ? "" : "; it is most likely a second or late reply to the previous request, "
        + call + " (the link duplicated or delayed a frame)";
  }

  /** Sends one packet and waits for its reply; a link failure closes this client. */
  Reply exchange(String call, byte[] packet) throws IOException {
    return exchange(call, packet, packet.length, packet, 0, 0, null);
  }

  /** Work done while a reply is awaited. */
  @FunctionalInterface
  private interface WhileWaiting {
    void run() throws IOException;
  }

  /**
   * As {@link #exchange(String, byte[])} for a packet of {@code head[0, headLen)} then {@code
   * data[off, +len)}, or for the packet the session has prepared if {@code head} is null; {@code
   * whileWaiting} (if any) runs after the packet is sent, before the reply is read.
   */
  private Reply exchange(String call, byte[] head, int headLen, byte[] data, int off, int len, WhileWaiting whileWaiting)
      throws IOException {
    lastExchangeNanos = System.nanoTime();
    if (closed) {
      throw new LinkClosedException(call + ": this client is closed" + (failure == null ? "" : " after: " + failure.getMessage()),
          failure);
    }
    try {
      String stray = session.strayReply();
      if (stray != null) {
        throw new LinkCorruptedException(call + ": before it was sent, " + stray + " arrived" + hint(lastCall));
      }
      if (head == null) {
        session.sendPrepared();
      } else {
        session.send(head, 0, headLen, data, off, len);
      }
      if (whileWaiting != null) whileWaiting.run();
      int n = session.receivePacket(call, options.replyTimeout());
      Reply reply = Reply.parse(call, session.packetBuffer(), 3, n);
      priorCall = lastCall;
      lastCall = call;
      return reply;
    } catch (LinkException e) {
      failure = e;
      close();
      throw e;
    }
  }

  /**
   * Bytes of requests (or, for CopyFromRemote, replies) in flight at once in {@link #pipelined}:
   * at least two packets, one being handled and one waiting behind it, and at small packets as many
   * as fill a Linux pipe (64 KiB), so that the device takes several in one read and wakes up once
   * for them rather than once per packet (2 KiB packets: 0.55x the raw pipe with two in flight,
   * 0.9x with 16, 1.0x with 32). Neither end can block the other: the side that sends big packets
   * gets only small replies back, far less than a pipe holds.
   */
  static final int PIPELINE_BYTES = 64 << 10;

  /** Sends request {@code k} of a pipelined exchange. */
  @FunctionalInterface
  private interface Request {
    void send(long k) throws IOException;
  }

  /** Takes the reply to request {@code k}. */
  @FunctionalInterface
  private interface ReplyHandler {
    void accept(long k, Reply r) throws IOException;
  }

  /**
   * Requests 0..count-1 with up to {@link #PIPELINE_BYTES} of packets in flight (at least two
   * packets of {@code packetBytes}), each reply handed to {@code
   * handler} in order; only for transports that {@linkplain Transport#buffersWhileBusy() buffer}.
   * When the device answers one with an error, no further request is sent, the replies to those
   * already sent are read (so none arrives later as a stray), and that first error is thrown with
   * the client still usable. A frame lost or damaged either way while requests are in flight would
   * shift replies onto the wrong requests, so that (like any link failure) fails the whole exchange
   * as corrupted and closes the client. Every wait is the reply timeout or the transport's.
   */
  private void pipelined(String call, int count, long packetBytes, Request request, ReplyHandler handler) throws IOException {
    lastExchangeNanos = System.nanoTime();
    if (closed) {
      throw new LinkClosedException(call + ": this client is closed" + (failure == null ? "" : " after: " + failure.getMessage()),
          failure);
    }
    RemoteException refused = null;
    try {
      String stray = session.strayReply();
      if (stray != null) {
        throw new LinkCorruptedException(call + ": before it was sent, " + stray + " arrived" + hint(lastCall));
      }
      long troubles = session.linkTroubles();
      int depth = (int) Math.max(2, Math.min(count, PIPELINE_BYTES / Math.max(1, packetBytes)));
      int sent = 0;
      while (sent < depth) request.send(sent++);
      session.flush();
      for (int k = 0; k < sent; k++) {
        int n = session.receivePacket(call, options.replyTimeout());
        if (session.linkTroubles() != troubles) {
          throw new LinkCorruptedException(call + ": a frame was lost or damaged while " + sent + " of its " + count
              + " requests were sent, so replies can no longer be matched to requests; the session is closed ("
              + session.lastTrouble() + ")");
        }
        Reply reply = Reply.parse(call, session.packetBuffer(), 3, n);
        if (refused == null) {
          try {
            handler.accept(k, reply);
          } catch (RemoteException e) {
            refused = e; // read the replies still coming, then report this one
          }
        }
        // refill when half the window is answered: one write for several packets
        if (refused == null && sent < count && sent - (k + 1) <= depth / 2) {
          while (sent < count && sent - (k + 1) < depth) request.send(sent++);
          session.flush();
        }
      }
      priorCall = lastCall;
      lastCall = call;
    } catch (LinkException e) {
      failure = e;
      close();
      throw e;
    }
    if (refused != null) throw refused;
  }

  /**
   * When the last exchange started (or, before any, when this client was made), in
   * {@link System#nanoTime} units: lets a notebook kernel tell which links a cell used.
   */
  public long lastExchangeNanos() { return lastExchangeNanos; }

  @Override public String toString() { return "RpcClient(" + session + ")"; }
}
