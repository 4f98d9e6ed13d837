/** Byte streams to a device with timeouts on every read: process stdio, TCP and serial ports, and the link failures they raise. */
package dev.kiln.transport;
