/** Turns generated C into folders on disk (Model Library Format-style trees), written all-or-nothing. */
package dev.kiln.project;
