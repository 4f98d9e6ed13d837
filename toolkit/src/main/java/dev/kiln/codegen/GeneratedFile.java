package dev.kiln.codegen;

/** One generated file: a path relative to the output folder and its text. */
public record GeneratedFile(String path, String text) {}
