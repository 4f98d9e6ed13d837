package dev.kiln.frontend.tflite;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Test-only FlatBuffers writer, enough to hand-craft {@code .tflite} files the converter would never
 * produce. It lays objects out front to back (vtable, table, then the table's children), which is
 * legal FlatBuffers: uoffsets point forward, the vtable sits before its table (positive soffset).
 * Values are written only when set, so "absent" and "default" can both be expressed.
 */
final class FlatBufferWriter {
  private byte[] out = new byte[256];
  private int size;

  /** A table under construction: slot → value. */
  static final class Obj {
    private final TreeMap<Integer, Object> fields = new TreeMap<>();

    Obj i8(int slot, int v) { fields.put(slot, new Scalar(1, v)); return this; }
    Obj bool(int slot, boolean v) { return i8(slot, v ? 1 : 0); }
    Obj i32(int slot, int v) { fields.put(slot, new Scalar(4, v)); return this; }
    Obj i64(int slot, long v) { fields.put(slot, new Scalar(8, v)); return this; }
    Obj f32(int slot, float v) { fields.put(slot, new Scalar(4, Float.floatToRawIntBits(v))); return this; }
    Obj ints(int slot, int... v) { fields.put(slot, new Ints(v)); return this; }
    Obj longs(int slot, long... v) { fields.put(slot, new Longs(v)); return this; }
    Obj floats(int slot, float... v) { fields.put(slot, new Floats(v)); return this; }
    Obj bytes(int slot, byte[] v) { fields.put(slot, new Bytes(v)); return this; }
    Obj str(int slot, String v) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      fields.put(slot, new Bytes(Arrays.copyOf(b, b.length + 1), b.length)); // NUL not counted
      return this;
    }
    Obj obj(int slot, Obj v) { fields.put(slot, v); return this; }
    Obj objs(int slot, List<Obj> v) { fields.put(slot, new Objs(List.copyOf(v))); return this; }
    Obj remove(int slot) { fields.remove(slot); return this; }
  }

  private record Scalar(int size, long value) {}
  private record Ints(int[] v) {}
  private record Longs(long[] v) {}
  private record Floats(float[] v) {}
  private record Bytes(byte[] v, int count) {
    Bytes(byte[] v) { this(v, v.length); }
  }
  private record Objs(List<Obj> v) {}

  /** The whole file: root uoffset, the 4-byte identifier, then the tree. */
  static byte[] file(Obj root, String identifier) {
    FlatBufferWriter w = new FlatBufferWriter();
    w.reserve(8);
    byte[] id = identifier.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(id, 0, w.out, 4, 4);
    int rootPos = w.table(root);
    w.putInt(0, rootPos);
    return Arrays.copyOf(w.out, w.size);
  }

  private int table(Obj t) {
    int slots = t.fields.isEmpty() ? 0 : t.fields.lastKey() + 1;
    // Inline layout: soffset, then fields in slot order, each aligned to its size.
    int[] offsets = new int[slots];
    int inline = 4;
    for (Map.Entry<Integer, Object> e : t.fields.entrySet()) {
      int fieldSize = e.getValue() instanceof Scalar s ? s.size() : 4;
      inline = (inline + fieldSize - 1) / fieldSize * fieldSize;
      offsets[e.getKey()] = inline;
      inline += fieldSize;
    }
    align(2);
    int vtable = reserve(4 + 2 * slots);
    putShort(vtable, 4 + 2 * slots);
    putShort(vtable + 2, inline);
    for (int s = 0; s < slots; s++) putShort(vtable + 4 + 2 * s, offsets[s]);
    align(8);
    int pos = reserve(inline);
    putInt(pos, pos - vtable);
    List<int[]> refs = new ArrayList<>();
    List<Object> children = new ArrayList<>();
    for (Map.Entry<Integer, Object> e : t.fields.entrySet()) {
      int at = pos + offsets[e.getKey()];
      if (e.getValue() instanceof Scalar s) {
        for (int b = 0; b < s.size(); b++) out[at + b] = (byte) (s.value() >>> (8 * b));
      } else {
        refs.add(new int[] {at});
        children.add(e.getValue());
      }
    }
    for (int i = 0; i < refs.size(); i++) {
      int at = refs.get(i)[0];
      putInt(at, child(children.get(i)) - at);
    }
    return pos;
  }

  private int child(Object v) {
    if (v instanceof Obj o) return table(o);
    align(8);
    if (v instanceof Ints x) {
      int p = vector(x.v().length, 4);
      for (int i = 0; i < x.v().length; i++) putInt(p + 4 + 4 * i, x.v()[i]);
      return p;
    }
    if (v instanceof Longs x) {
      int p = vector(x.v().length, 8);
      for (int i = 0; i < x.v().length; i++) {
        for (int b = 0; b < 8; b++) out[p + 4 + 8 * i + b] = (byte) (x.v()[i] >>> (8 * b));
      }
      return p;
    }
    if (v instanceof Floats x) {
      int p = vector(x.v().length, 4);
      for (int i = 0; i < x.v().length; i++) putInt(p + 4 + 4 * i, Float.floatToRawIntBits(x.v()[i]));
      return p;
    }
    if (v instanceof Bytes x) {
      int p = reserve(4 + x.v().length);
      putInt(p, x.count());
      System.arraycopy(x.v(), 0, out, p + 4, x.v().length);
      return p;
    }
    Objs x = (Objs) v;
    int p = vector(x.v().size(), 4);
    for (int i = 0; i < x.v().size(); i++) {
      int at = p + 4 + 4 * i;
      putInt(at, table(x.v().get(i)) - at);
    }
    return p;
  }

  private int vector(int count, int elementSize) {
    int p = reserve(4 + count * elementSize);
    putInt(p, count);
    return p;
  }

  private void align(int n) {
    while (size % n != 0) reserve(1);
  }

  private int reserve(int n) {
    while (size + n > out.length) out = Arrays.copyOf(out, out.length * 2);
    int p = size;
    size += n;
    return p;
  }

  private void putShort(int at, int v) {
    out[at] = (byte) v;
    out[at + 1] = (byte) (v >>> 8);
  }

  private void putInt(int at, int v) {
    for (int b = 0; b < 4; b++) out[at + b] = (byte) (v >>> (8 * b));
  }
}
