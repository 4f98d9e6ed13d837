/*
 * libFuzzer harness of the device's receive path: bytes -> unframer -> session layer -> RPC server
 * -> executors (tvm.graph_executor.create parses the graph JSON; tvm.aot_executor.create) -> the
 * generated system library linked in. Built with clang -fsanitize=fuzzer,address,undefined by
 * dev.kiln.hardening.DeviceReceiveFuzzTest (which also documents the long campaign).
 *
 * An input's first byte picks how the rest reaches the device:
 *   even: raw bytes, fed as they come, split into reads at every 0x00 0x00 0x00 of the first byte's
 *         high bits (a recorded host transcript replays as is: the device's nonce is pinned below);
 *   odd:  RPC packets the harness frames itself after a handshake: [u16 little-endian length][body]
 *         repeated; each body becomes u64 length + body in a kNormal message of the session, so
 *         mutations reach the RPC server instead of dying on a CRC.
 * kiln_abort longjmps back here: an abort is a clean way for the device to refuse, not a bug.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kiln_executors.h"
#include "kiln_framing.h"
#include "kiln_platform.h"
#include "kiln_runtime.h"
#include "kiln_syslib.h"

#define FUZZ_RANDOM_BYTE 0x5A /* the device nonce seed: recorded transcripts were made with this */
#define FUZZ_HOST_NONCE 0x42

static kiln_runtime runtime;
static jmp_buf aborted;
static uint64_t fake_clock;
static uint8_t frame_out[KILN_MAX_PACKET_BYTES * 2 + 64];
static size_t frame_len;

int kiln_platform_write(void *platform, const uint8_t *bytes, size_t n, int flush) {
  (void)platform;
  (void)bytes;
  (void)n;
  (void)flush;
  return 0;
}

size_t kiln_platform_read(void *platform, uint8_t *buffer, size_t capacity) {
  (void)platform;
  (void)buffer;
  (void)capacity;
  return 0;
}

uint64_t kiln_platform_time_ns(void *platform) {
  (void)platform;
  /* Monotonic, and a day per reading: every min_repeat_ms the device accepts (at most an hour) is
   * reached by the first measurement, so timing loops end however few calls they make. */
  return fake_clock += 86400ull * 1000000000ull;
}

/* No graph JSON is linked into this program: the fuzzer's packets carry one, as a host would. */
const char kiln_linked_graph_json[] = "";

void kiln_platform_abort(void *platform, int32_t code, const char *reason) {
  (void)platform;
  (void)code;
  (void)reason;
  longjmp(aborted, 1);
}

static int collect(void *ctx, const uint8_t *bytes, size_t n, int flush) {
  (void)ctx;
  (void)flush;
  if (frame_len + n > sizeof(frame_out)) return -1;
  memcpy(frame_out + frame_len, bytes, n);
  frame_len += n;
  return 0;
}

/* Frames one session message [sid lo][sid hi][type][body] and feeds it to the device. */
static void send_message(uint16_t sid, uint8_t type, const uint8_t *body, size_t n, int with_length) {
  kiln_framer framer;
  uint8_t head[11];
  size_t head_len = 3;
  uint64_t len = n;
  int i;
  head[0] = (uint8_t)(sid & 0xFFu);
  head[1] = (uint8_t)(sid >> 8);
  head[2] = type;
  if (with_length) {
    for (i = 0; i < 8; ++i) head[3 + i] = (uint8_t)(len >> (8 * i));
    head_len = 11;
  }
  frame_len = 0;
  kiln_framer_init(&framer, collect, NULL);
  kiln_framer_start(&framer, (uint32_t)(head_len + n));
  (void)kiln_framer_payload(&framer, head, head_len);
  if (n > 0) (void)kiln_framer_payload(&framer, body, n);
  (void)kiln_framer_finish(&framer);
  (void)kiln_runtime_feed(&runtime, frame_out, frame_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t mode;
  if (size < 1) return 0;
  mode = data[0];
  data++;
  size--;
  kiln_runtime_init(&runtime, NULL, kiln_system_lib(), FUZZ_RANDOM_BYTE);
  (void)kiln_executors_register(&runtime);
  if (setjmp(aborted) != 0) return 0;
  if ((mode & 1u) == 0) {
    /* raw: feed in reads of 1..64 bytes (mode's high bits), as a UART would deliver them */
    size_t chunk = (size_t)(mode >> 2) + 1u;
    while (size > 0 && !runtime.shutdown) {
      size_t n = size < chunk ? size : chunk;
      (void)kiln_runtime_feed(&runtime, data, n);
      data += n;
      size -= n;
    }
    return 0;
  }
  {
    static const uint8_t version[1] = {1};
    send_message(0, 0x02, NULL, 0, 0);                  /* TerminateSession */
    send_message(FUZZ_HOST_NONCE, 0x00, version, 1, 0); /* StartSessionInit */
    while (size >= 2 && !runtime.shutdown) {
      size_t n = (size_t)data[0] | ((size_t)data[1] << 8);
      data += 2;
      size -= 2;
      if (n > size) n = size;
      if (n > KILN_MAX_PACKET_BYTES) n = KILN_MAX_PACKET_BYTES;
      send_message(runtime.session_id, 0x10, data, n, (mode & 2u) == 0);
      data += n;
      size -= n;
    }
  }
  return 0;
}
