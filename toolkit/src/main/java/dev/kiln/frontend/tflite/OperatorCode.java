package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;

/**
 * One {@code Model.operator_codes} entry: which builtin (or custom) operator, and its version.
 * The builtin code is {@code max(builtin_code, deprecated_builtin_code)} (schema 3a): old writers
 * fill only the int8 field, new ones both, and ADD (0) may have neither.
 */
record OperatorCode(int builtin, String customCode, int version) {
  private static final int DEPRECATED_BUILTIN_CODE = 0;
  private static final int CUSTOM_CODE = 1;
  private static final int VERSION = 2;
  private static final int BUILTIN_CODE = 3;

  static OperatorCode read(Table t) throws ModelFormatException {
    int deprecated = t.int8(DEPRECATED_BUILTIN_CODE, "deprecated_builtin_code", 0);
    int builtin = t.int32(BUILTIN_CODE, "builtin_code", 0);
    return new OperatorCode(Math.max(builtin, deprecated), t.string(CUSTOM_CODE, "custom_code"), t.int32(VERSION, "version", 1));
  }

  boolean isCustom() { return builtin == BuiltinOperators.CUSTOM; }

  /** {@code CONV_2D}, or the custom operator's own code. */
  String name() {
    return isCustom() ? (customCode == null ? "CUSTOM (no custom_code)" : customCode) : BuiltinOperators.name(builtin);
  }
}
