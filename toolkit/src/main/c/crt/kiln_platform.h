/*
 * The platform contract: the only functions the runtime needs from a board, implemented once per
 * platform in platform/<name>/. Each receives the `platform` pointer given to kiln_runtime_init(),
 * so a platform keeps its state (file descriptors, UART base address) there and not in globals.
 * All four are required; none may be called before kiln_runtime_init().
 */
#ifndef KILN_PLATFORM_H
#define KILN_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bytes out. Called by the runtime with 1..KILN_WRITE_CHUNK_BYTES bytes at a time, in order; at the
 * end of every frame with flush != 0 (a buffering platform sends what it holds then, or at the
 * latest when it has fed the runtime everything its last read returned, before it waits for more:
 * the host platform holds the replies to pipelined requests until then, to send them in one write).
 * Must write all n bytes before returning (block if the link is slow). Returns 0, or non-zero if
 * the link is gone; the runtime then stops writing until the next frame.
 */
int kiln_platform_write(void *platform, const uint8_t *bytes, size_t n, int flush);

/*
 * Bytes in, used only by kiln_runtime_serve(): blocks until at least one byte is there and returns
 * how many were stored (1..capacity), or 0 when the link is closed for good. A platform that
 * receives in an interrupt handler may instead call kiln_runtime_feed() itself and never call serve.
 */
size_t kiln_platform_read(void *platform, uint8_t *buffer, size_t capacity);

/*
 * Nanoseconds from an arbitrary origin, monotonic, wrapping at 2^64, at the resolution the board's
 * clock has (a 25 MHz tick is 40 ns). On QEMU with -icount shift=S this is the virtual clock, which
 * advances exactly 2^S ns per executed instruction: the host turns it into instruction counts.
 */
uint64_t kiln_platform_time_ns(void *platform);

/*
 * Stops the device for good. Called by kiln_abort() after the reason went to the host as a kLog
 * message. Must not return; a host process exits, a board halts or resets. code is a KILN_ERR_*
 * value, reason a short NUL-terminated text (also worth printing on a local console).
 */
void kiln_platform_abort(void *platform, int32_t code, const char *reason);

#endif /* KILN_PLATFORM_H */
