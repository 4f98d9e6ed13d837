package dev.kiln.project;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The section headers and symbol table of an ELF file (32- or 64-bit, either byte order: host gcc,
 * arm-none-eabi and riscv alike), what {@code size -A} and {@code nm -S} read. Each symbol carries
 * the source file its local symbols follow ({@code STT_FILE}), so static tables can be told apart by
 * the file that defined them. Immutable.
 */
public final class ElfFile {
  /** Section flags. */
  public static final long SHF_WRITE = 0x1;
  public static final long SHF_ALLOC = 0x2;
  public static final long SHF_EXECINSTR = 0x4;
  /** Section types. */
  public static final int SHT_PROGBITS = 1;
  public static final int SHT_SYMTAB = 2;
  public static final int SHT_NOBITS = 8;
  /** Symbol types. */
  public static final int STT_OBJECT = 1;
  public static final int STT_FUNC = 2;
  public static final int STT_FILE = 4;

  public record Section(int index, String name, int type, long flags, long address, long size) {
    public boolean isAlloc() { return (flags & SHF_ALLOC) != 0; }

    public boolean isCode() { return isAlloc() && (flags & SHF_EXECINSTR) != 0; }

    public boolean isWritable() { return (flags & SHF_WRITE) != 0; }

    /** Zero-initialised: takes RAM, no flash. */
    public boolean isBss() { return isAlloc() && type == SHT_NOBITS; }
  }

  /**
   * A symbol: {@code file} is the source file of a local symbol (from the {@code STT_FILE} entry
   * before it), empty for globals; {@code section} is its section index (0 undefined, >= 0xff00 special).
   */
  public record Symbol(String name, long value, long size, int type, boolean global, int section, String file) {}

  private final Path path;
  private final int bits;
  private final int machine;
  private final List<Section> sections;
  private final List<Symbol> symbols;

  private ElfFile(Path path, int bits, int machine, List<Section> sections, List<Symbol> symbols) {
    this.path = path;
    this.bits = bits;
    this.machine = machine;
    this.sections = List.copyOf(sections);
    this.symbols = List.copyOf(symbols);
  }

  public static ElfFile read(Path path) throws IOException {
    byte[] bytes = Files.readAllBytes(path);
    try {
      return parse(path, bytes);
    } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw new IOException(path + " is not a well-formed ELF file: " + e.getMessage(), e);
    }
  }

  private static ElfFile parse(Path path, byte[] bytes) throws IOException {
    if (bytes.length < 52 || bytes[0] != 0x7F || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') {
      throw new IOException(path + " is not an ELF file (no 7f 45 4c 46 magic)");
    }
    int cls = bytes[4];
    if (cls != 1 && cls != 2) throw new IOException(path + ": ELF class " + cls + " is neither 32-bit (1) nor 64-bit (2)");
    boolean wide = cls == 2;
    ByteBuffer b = ByteBuffer.wrap(bytes).order(bytes[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    int machine = Short.toUnsignedInt(b.getShort(18));
    long shoff = wide ? b.getLong(0x28) : Integer.toUnsignedLong(b.getInt(0x20));
    int shentsize = Short.toUnsignedInt(b.getShort(wide ? 0x3A : 0x2E));
    int shnum = Short.toUnsignedInt(b.getShort(wide ? 0x3C : 0x30));
    int shstrndx = Short.toUnsignedInt(b.getShort(wide ? 0x3E : 0x32));
    if (shoff == 0 || shnum == 0) throw new IOException(path + " has no section headers (stripped of them?)");
    long[][] raw = new long[shnum][];
    for (int i = 0; i < shnum; i++) {
      int at = Math.toIntExact(shoff + (long) i * shentsize);
      long nameOff = Integer.toUnsignedLong(b.getInt(at));
      long type = Integer.toUnsignedLong(b.getInt(at + 4));
      long flags = wide ? b.getLong(at + 8) : Integer.toUnsignedLong(b.getInt(at + 8));
      long addr = wide ? b.getLong(at + 16) : Integer.toUnsignedLong(b.getInt(at + 12));
      long off = wide ? b.getLong(at + 24) : Integer.toUnsignedLong(b.getInt(at + 16));
      long size = wide ? b.getLong(at + 32) : Integer.toUnsignedLong(b.getInt(at + 20));
      long link = Integer.toUnsignedLong(b.getInt(at + (wide ? 40 : 24)));
      long entsize = wide ? b.getLong(at + 56) : Integer.toUnsignedLong(b.getInt(at + 36));
      raw[i] = new long[] {nameOff, type, flags, addr, off, size, link, entsize};
    }
    long namesAt = raw[shstrndx][4];
    List<Section> sections = new ArrayList<>();
    for (int i = 0; i < shnum; i++) {
      sections.add(new Section(i, string(bytes, namesAt + raw[i][0]), (int) raw[i][1], raw[i][2], raw[i][3], raw[i][5]));
    }
    List<Symbol> symbols = new ArrayList<>();
    for (int s = 0; s < shnum; s++) {
      if (raw[s][1] != SHT_SYMTAB) continue;
      long strAt = raw[(int) raw[s][6]][4];
      int entry = wide ? 24 : 16;
      long count = raw[s][5] / entry;
      String file = "";
      for (long k = 1; k < count; k++) {
        int at = Math.toIntExact(raw[s][4] + k * entry);
        long nameOff = Integer.toUnsignedLong(b.getInt(at));
        int info = Byte.toUnsignedInt(b.get(at + (wide ? 4 : 12)));
        int shndx = Short.toUnsignedInt(b.getShort(at + (wide ? 6 : 14)));
        long value = wide ? b.getLong(at + 8) : Integer.toUnsignedLong(b.getInt(at + 4));
        long size = wide ? b.getLong(at + 16) : Integer.toUnsignedLong(b.getInt(at + 8));
        int type = info & 0xF;
        boolean global = (info >> 4) != 0;
        String name = string(bytes, strAt + nameOff);
        if (type == STT_FILE) {
          file = name;
          continue;
        }
        symbols.add(new Symbol(name, value, size, type, global, shndx, global ? "" : file));
      }
    }
    return new ElfFile(path, wide ? 64 : 32, machine, sections, symbols);
  }

  private static String string(byte[] bytes, long at) {
    int start = Math.toIntExact(at);
    int end = start;
    while (bytes[end] != 0) end++;
    return new String(bytes, start, end - start, StandardCharsets.UTF_8);
  }

  public Path path() { return path; }

  /** 32 or 64. */
  public int bits() { return bits; }

  /** e_machine: 62 x86-64, 40 ARM, 243 RISC-V. */
  public int machine() { return machine; }

  public List<Section> sections() { return sections; }

  public List<Symbol> symbols() { return symbols; }

  /** The section with this index, or null for undefined and special indices. */
  public Section section(int index) { return index > 0 && index < sections.size() ? sections.get(index) : null; }

  @Override public String toString() {
    return "ElfFile(" + path + ", " + bits + "-bit, machine " + machine + ", " + sections.size() + " sections, "
        + symbols.size() + " symbols)";
  }
}
