/** Takes an ir.Graph and returns a CompiledModel: checked ops, resolved storage (views cost nothing) and a static memory plan. */
package dev.kiln.compile;
