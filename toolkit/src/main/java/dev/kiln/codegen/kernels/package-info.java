/** One emitter per op family: Prepare in Java, a call to the C kernel library (runtime resources) for Eval. */
package dev.kiln.codegen.kernels;
