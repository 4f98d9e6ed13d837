/*
 * Sizes of every static pool of the device runtime. Override any of them with -D on the compiler
 * command line; nothing is allocated after kiln_runtime_init().
 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

/* Largest framed payload (session header + RPC packet) the device accepts or sends. microTVM's
 * default is 2048; GetCRTMaxPacketSize reports this minus 11. */
#ifndef KILN_MAX_PACKET_BYTES
#define KILN_MAX_PACKET_BYTES 2048
#endif

/* Bytes of device memory handed out by DevAllocData and kiln_ndarray_empty. */
#ifndef KILN_ARENA_BYTES
#define KILN_ARENA_BYTES (2u * 1024u * 1024u)
#endif

/* Alignment of every arena allocation (and the granule sizes are rounded to). */
#ifndef KILN_ARENA_ALIGN
#define KILN_ARENA_ALIGN 64u
#endif

/* Live arena allocations at once. */
#ifndef KILN_MAX_ALLOCATIONS
#define KILN_MAX_ALLOCATIONS 64
#endif

/* Device-side NDArray objects (returned to the host as kTVMNDArrayHandle) alive at once. */
#ifndef KILN_MAX_NDARRAYS
#define KILN_MAX_NDARRAYS 32
#endif

#ifndef KILN_MAX_NDIM
#define KILN_MAX_NDIM 6
#endif

/* Arguments of one packed call. */
#ifndef KILN_MAX_ARGS
#define KILN_MAX_ARGS 16
#endif

/* Global functions (built-ins + executors' create functions). */
#ifndef KILN_MAX_GLOBALS
#define KILN_MAX_GLOBALS 16
#endif

/* Module slots: 0 is the system library, the rest belong to executors. Globals use handle module
 * index KILN_MAX_MODULES, so the default 2 keeps microTVM's handle values (0x80028000 + f). */
#ifndef KILN_MAX_MODULES
#define KILN_MAX_MODULES 2
#endif

/* Longest log message (bytes, without NUL); longer text is cut, never overrun. microTVM hosts drop
 * logs of 1024 bytes or more. */
#ifndef KILN_LOG_BYTES
#define KILN_LOG_BYTES 255
#endif

/* Longest last-error text reported in a kException. */
#ifndef KILN_ERROR_BYTES
#define KILN_ERROR_BYTES 255
#endif

/* Escaped bytes gathered before one kiln_platform_write call. */
#ifndef KILN_WRITE_CHUNK_BYTES
#define KILN_WRITE_CHUNK_BYTES 1024
#endif

/* runtime.RPCTimeEvaluator: evaluator slots (reused round-robin) and the most repeats per call. */
#ifndef KILN_MAX_TIME_EVALUATORS
#define KILN_MAX_TIME_EVALUATORS 4
#endif
#ifndef KILN_MAX_TIME_REPEATS
#define KILN_MAX_TIME_REPEATS 32
#endif

/* The longest min_repeat_ms a time evaluator or run_individual accepts (one hour): beyond it the
 * growth of `number` that reaches it would overflow, and no measurement needs that long. */
#ifndef KILN_MAX_MIN_REPEAT_MS
#define KILN_MAX_MIN_REPEAT_MS 3600000
#endif

/* The most calls one timing round makes, as asked (number) or grown to reach min_repeat_ms or a
 * non-zero clock reading: bounds the work a host can ask for and keeps the growth from overflowing. */
#ifndef KILN_MAX_TIME_NUMBER
#define KILN_MAX_TIME_NUMBER 1000000000
#endif

/* Bytes kiln_runtime_serve asks kiln_platform_read for at once (a stack buffer). */
#ifndef KILN_READ_CHUNK_BYTES
#define KILN_READ_CHUNK_BYTES 512
#endif

#endif /* KILN_CONFIG_H */
