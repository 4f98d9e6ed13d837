/** Reads {@code .tflite} flatbuffers (schema v3) into {@code ir.Graph}, refusing what Kiln cannot compile with a one-sentence reason. */
package dev.kiln.frontend.tflite;
