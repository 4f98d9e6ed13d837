package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import java.nio.charset.StandardCharsets;

/**
 * The 8-byte header check (root offset, then the identifier {@code TFL3} at byte 4). When it fails,
 * the message shows the bytes found and guesses what the file is, since the usual cause is a
 * wrong file (an ONNX model, a Keras archive, a text file), not a damaged one.
 */
final class FileHeader {
  private static final byte[] TFL3 = "TFL3".getBytes(StandardCharsets.US_ASCII);

  private FileHeader() {}

  static void check(String file, byte[] data) throws ModelFormatException {
    if (data.length == 0) {
      throw new ModelFormatException(file, "the file is empty (0 bytes); a .tflite model starts with the identifier TFL3 at byte 4");
    }
    if (data.length < 8) {
      throw new ModelFormatException(file, "not a TFLite model: the file is only " + data.length + " bytes ("
          + show(data, data.length) + "), but a .tflite file starts with an 8-byte header holding the identifier TFL3 at byte 4"
          + guess(data));
    }
    if (!matches(data, 4)) {
      String where = matches(data, 0) ? "; TFL3 is at byte 0, so the 4-byte root offset in front of it is missing"
          : data.length >= 12 && matches(data, 8) ? "; TFL3 is at byte 8: this looks like a size-prefixed FlatBuffer, which TFLite does not write"
          : guess(data);
      throw new ModelFormatException(file, "not a TFLite model: bytes 4..7 are " + show(java.util.Arrays.copyOfRange(data, 4, 8), 4)
          + ", but a .tflite file has the identifier TFL3 at byte 4 (the file starts with " + show(data, Math.min(8, data.length)) + ")"
          + where);
    }
  }

  private static boolean matches(byte[] data, int at) {
    if (data.length < at + 4) return false;
    for (int i = 0; i < 4; i++) if (data[at + i] != TFL3[i]) return false;
    return true;
  }

  /** What the file probably is, as "; this looks like ..." or empty when there is no good guess. */
  private static String guess(byte[] d) {
    if (startsWith(d, 'P', 'K', 3, 4)) {
      return "; this looks like a zip archive (a Keras .keras file or a zipped SavedModel?), not a .tflite file";
    }
    if (startsWith(d, 0x89, 'H', 'D', 'F')) return "; this looks like an HDF5 file (a Keras .h5 model), not a .tflite file";
    if (startsWith(d, 0x93, 'N', 'U', 'M')) return "; this looks like a numpy .npy file, not a model";
    // ONNX ModelProto: field 1 (ir_version, varint) then producer_name / graph / opset_import.
    if (d.length >= 3 && d[0] == 0x08 && d[1] > 0 && (d[2] == 0x12 || d[2] == 0x1a || d[2] == 0x3a || d[2] == 0x42)) {
      return "; this looks like an ONNX model (protobuf); load it with the ONNX frontend";
    }
    if (looksLikeText(d)) return "; this looks like a text file";
    if (d.length >= 2 && (d[0] == 0x08 || d[0] == 0x0a)) {
      return "; this looks like a protobuf file (ONNX models and TensorFlow .pb files are protobuf), not a .tflite file";
    }
    return "";
  }

  private static boolean startsWith(byte[] d, int... prefix) {
    if (d.length < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) if ((d[i] & 0xff) != prefix[i]) return false;
    return true;
  }

  private static boolean looksLikeText(byte[] d) {
    int n = Math.min(d.length, 64);
    for (int i = 0; i < n; i++) {
      int c = d[i] & 0xff;
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f) return false;
    }
    return true;
  }

  /** Bytes as hex plus their printable form: {@code 4f 4e 4e 58 ("ONNX")}. */
  private static String show(byte[] d, int n) {
    StringBuilder hex = new StringBuilder();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int c = d[i] & 0xff;
      if (i > 0) hex.append(' ');
      hex.append(String.format("%02x", c));
      text.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
    }
    return hex + " (\"" + text + "\")";
  }
}
