/** The microTVM-compatible link over a transport: framing, session, and the TVM RPC client (remote functions, remote NDArrays, chunked copies). */
package dev.kiln.rpc;
