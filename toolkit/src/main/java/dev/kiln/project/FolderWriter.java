package dev.kiln.project;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a set of files as one folder, all or nothing: everything goes into a hidden sibling
 * folder first, which replaces the destination only when complete. A failure leaves the
 * destination as it was, never half-written.
 */
public final class FolderWriter {
  private FolderWriter() {}

  public static void write(Path destination, Map<String, String> files) throws IOException {
    Path dest = destination.toAbsolutePath().normalize();
    Path parent = dest.getParent();
    if (parent == null) throw new IOException("cannot write a model library to the file-system root");
    Files.createDirectories(parent);
    if (Files.exists(dest) && !Files.isDirectory(dest)) {
      throw new FileAlreadyExistsException(dest.toString(), null, "exists and is not a folder");
    }
    Path staging = Files.createTempDirectory(parent, "." + dest.getFileName() + ".kiln-");
    try {
      for (Map.Entry<String, String> e : files.entrySet()) {
        Path p = staging.resolve(e.getKey()).normalize();
        if (!p.startsWith(staging)) throw new IOException("refusing to write outside the output folder: " + e.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
      }
      Path old = null;
      if (Files.exists(dest)) {
        old = Files.createTempDirectory(parent, "." + dest.getFileName() + ".old-");
        Files.delete(old);
        Files.move(dest, old);
      }
      try {
        Files.move(staging, dest, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(staging, dest);
      }
      if (old != null) deleteTree(old);
    } finally {
      if (Files.exists(staging)) deleteTree(staging);
    }
  }

  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
    }
  }
}
