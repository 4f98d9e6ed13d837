package dev.kiln.project;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An uncompressed POSIX ustar archive laid out the way Python's {@code tarfile.add(folder,
 * arcname=".")} writes one, which is how TVM writes a Model Library Format file: first {@code ./},
 * then each folder followed by its sorted contents, depth first; folders 0755 and files 0644, owner
 * 0/0 {@code root}/{@code root}; two zero blocks at the end, padded to a 10240-byte record. The JDK
 * has no tar writer and the format is 512-byte headers of octal text, so this is the whole of it.
 */
public final class TarArchive {
  private static final int BLOCK = 512;
  private static final int RECORD = 20 * BLOCK;

  private TarArchive() {}

  /**
   * The archive of {@code files} (paths relative to the archive's root, '/'-separated, no leading
   * "./") with modification time {@code mtimeSeconds}.
   *
   * @throws IllegalArgumentException if a path is empty, absolute, has an empty or ".." part, or is
   *     too long for a ustar header (100 bytes of name after up to 155 of folder)
   */
  public static byte[] of(Map<String, byte[]> files, long mtimeSeconds) {
    Node root = new Node();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      String path = e.getKey();
      if (path.isEmpty() || path.startsWith("/") || path.endsWith("/")) {
        throw new IllegalArgumentException("tar path must be relative, to a file: '" + path + "'");
      }
      Node n = root;
      String[] parts = path.split("/");
      for (int i = 0; i < parts.length; i++) {
        if (parts[i].isEmpty() || parts[i].equals("..") || parts[i].equals(".")) {
          throw new IllegalArgumentException("tar path has an empty, '.' or '..' part: '" + path + "'");
        }
        n = n.children.computeIfAbsent(parts[i], k -> new Node());
      }
      n.data = e.getValue();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(out, ".", root, mtimeSeconds);
    out.writeBytes(new byte[2 * BLOCK]);
    int pad = (RECORD - out.size() % RECORD) % RECORD;
    out.writeBytes(new byte[pad]);
    return out.toByteArray();
  }

  private static final class Node {
    final TreeMap<String, Node> children = new TreeMap<>();
    byte[] data; // null for a folder
  }

  private static void write(ByteArrayOutputStream out, String name, Node node, long mtime) {
    if (node.data != null) {
      out.writeBytes(header(name, 0644, node.data.length, mtime, '0'));
      out.writeBytes(node.data);
      out.writeBytes(new byte[(BLOCK - node.data.length % BLOCK) % BLOCK]);
      return;
    }
    out.writeBytes(header(name + "/", 0755, 0, mtime, '5'));
    for (Map.Entry<String, Node> c : node.children.entrySet()) write(out, name + "/" + c.getKey(), c.getValue(), mtime);
  }

  /** One ustar header block (POSIX.1-1988 with the "ustar\0" "00" magic, as Python writes). */
  static byte[] header(String path, int mode, long size, long mtime, char type) {
    byte[] h = new byte[BLOCK];
    byte[] full = path.getBytes(StandardCharsets.UTF_8);
    String name = path;
    String prefix = "";
    if (full.length > 100) {
      // split at a '/' so that the name part fits 100 bytes and the folder part 155
      int cut = -1;
      for (int i = path.length() - 1; i > 0; i--) {
        if (path.charAt(i) == '/' && i < path.length() - 1 && utf8(path.substring(0, i)) <= 155
            && utf8(path.substring(i + 1)) <= 100) {
          cut = i;
          break;
        }
      }
      if (cut < 0) throw new IllegalArgumentException("tar path too long for a ustar header: '" + path + "'");
      prefix = path.substring(0, cut);
      name = path.substring(cut + 1);
    }
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    octal(h, 100, 8, mode);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, mtime);
    for (int i = 148; i < 156; i++) h[i] = ' ';
    h[156] = (byte) type;
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
    put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
    octal(h, 329, 8, 0);
    octal(h, 337, 8, 0);
    put(h, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
    long sum = 0;
    for (byte b : h) sum += b & 0xFF;
    byte[] chk = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(chk, 0, h, 148, 6);
    h[154] = 0;
    h[155] = ' ';
    return h;
  }

  private static int utf8(String s) { return s.getBytes(StandardCharsets.UTF_8).length; }

  private static void put(byte[] h, int at, int width, byte[] value) {
    if (value.length > width) throw new IllegalArgumentException("tar header field of " + width + " bytes: " + value.length);
    System.arraycopy(value, 0, h, at, value.length);
  }

  /** width-1 octal digits, zero-padded, then NUL (Python's itn for ustar). */
  private static void octal(byte[] h, int at, int width, long value) {
    String s = Long.toOctalString(value);
    if (s.length() > width - 1) throw new IllegalArgumentException("tar header value " + value + " does not fit " + width + " bytes");
    put(h, at, width, ("0".repeat(width - 1 - s.length()) + s + "\0").getBytes(StandardCharsets.US_ASCII));
  }

  /** Member names in archive order, as {@code tar -t} lists them (for tests and displays). */
  public static List<String> names(byte[] tar) {
    List<String> names = new ArrayList<>();
    int at = 0;
    while (at + BLOCK <= tar.length && tar[at] != 0) {
      String name = field(tar, at, 100);
      String prefix = field(tar, at + 345, 155);
      long size = Long.parseLong(field(tar, at + 124, 12).trim(), 8);
      names.add(prefix.isEmpty() ? name : prefix + "/" + name);
      at += BLOCK + (int) ((size + BLOCK - 1) / BLOCK * BLOCK);
    }
    return names;
  }

  private static String field(byte[] tar, int at, int width) {
    int end = at;
    while (end < at + width && tar[end] != 0) end++;
    return new String(tar, at, end - at, StandardCharsets.UTF_8);
  }
}
