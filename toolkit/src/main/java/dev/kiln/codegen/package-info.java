/** Turns a compiled graph and its memory plan into C99 text: kernels' calls, constants, the AoT entry and metadata. */
package dev.kiln.codegen;
