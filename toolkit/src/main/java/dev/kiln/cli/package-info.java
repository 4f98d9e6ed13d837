/** The {@code kiln} command: argument parsing and printing around the api package, nothing more. */
package dev.kiln.cli;
