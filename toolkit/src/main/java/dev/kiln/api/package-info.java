/** The fluent entry points a notebook or the command line uses: Kiln.load, Model.build, Build.export. */
package dev.kiln.api;
