/** The fluent entry points a notebook or the command line uses: Kiln.load, Model.build, Build.export, Kiln.compare. */
package dev.kiln.api;
