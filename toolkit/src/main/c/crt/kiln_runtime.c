/* Runtime core: init, the byte feed, the session layer (handshake, nonces, logs) and the registry. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kiln_internal.h"
#include "kiln_platform.h"

static int platform_write(void *ctx, const uint8_t *bytes, size_t n, int flush) {
  return kiln_platform_write(ctx, bytes, n, flush);
}

/* microTVM's nonce regeneration: ((n & 7) << 5 | n >> 5) + 1, never 0. */
static uint8_t next_nonce(uint8_t n) {
  uint8_t v = (uint8_t)((((n & 0x07u) << 5) | (n >> 5)) + 1u);
  return v == 0 ? 1 : v;
}

void kiln_runtime_init(kiln_runtime *rt, void *platform, const kiln_module *system_lib, uint8_t random_byte) {
  memset(rt, 0, sizeof(*rt));
  rt->platform = platform;
  kiln_framer_init(&rt->framer, platform_write, platform);
  kiln_unframer_init(&rt->unframer, rt->rx, (uint32_t)sizeof(rt->rx));
  rt->nonce = random_byte;
  rt->random_state = 0x9E3779B97F4A7C15ull ^ random_byte;
  rt->modules[0] = system_lib;
  kiln_tvm_api_bind(rt);
  kiln_rpc_register_builtins(rt);
  /* boot: TerminateSession, session id 0 */
  kiln_send_begin(rt, KILN_MSG_TERMINATE_SESSION, 0, 0);
  kiln_send_end(rt);
}

void kiln_runtime_strict_microtvm(kiln_runtime *rt) { rt->strict_microtvm = 1; }

int kiln_register_global(kiln_runtime *rt, const char *name, kiln_packed_fn fn) {
  if (rt->num_globals == KILN_MAX_GLOBALS) return KILN_ERR_REGISTRY_FULL;
  rt->globals[rt->num_globals].name = name;
  rt->globals[rt->num_globals].fn = fn;
  rt->num_globals++;
  return KILN_OK;
}

int kiln_add_module(kiln_runtime *rt, const kiln_module *module, uint64_t *handle_out) {
  int i;
  for (i = 1; i < KILN_MAX_MODULES; ++i) {
    if (rt->modules[i] == NULL) {
      rt->modules[i] = module;
      *handle_out = (uint64_t)(i | 0x8000);
      return KILN_OK;
    }
  }
  return KILN_ERR_REGISTRY_FULL;
}

/* ---- sending ---- */

void kiln_send_begin(kiln_runtime *rt, uint8_t message_type, uint16_t session_id, uint32_t body_len) {
  uint8_t header[3];
  header[0] = (uint8_t)(session_id & 0xFFu);
  header[1] = (uint8_t)(session_id >> 8);
  header[2] = message_type;
  kiln_framer_start(&rt->framer, body_len + 3u);
  (void)kiln_framer_payload(&rt->framer, header, 3);
}

void kiln_send_bytes(kiln_runtime *rt, const void *bytes, size_t n) {
  (void)kiln_framer_payload(&rt->framer, (const uint8_t *)bytes, n);
}

void kiln_send_end(kiln_runtime *rt) { (void)kiln_framer_finish(&rt->framer); }

static void send_log_text(kiln_runtime *rt, const char *text, size_t len) {
  if (len > 0 && text[len - 1] == '\n') len--;
  if (len == 0) return; /* microTVM hosts wedge on an empty log */
  kiln_send_begin(rt, KILN_MSG_LOG, 0, (uint32_t)len);
  kiln_send_bytes(rt, text, len);
  kiln_send_end(rt);
}

static void vlog(kiln_runtime *rt, const char *prefix, const char *format, va_list ap) {
  char buffer[KILN_LOG_BYTES + 1];
  size_t used = 0;
  int n;
  if (prefix != NULL) {
    used = strlen(prefix);
    if (used > KILN_LOG_BYTES) used = KILN_LOG_BYTES;
    memcpy(buffer, prefix, used);
  }
  n = vsnprintf(buffer + used, sizeof(buffer) - used, format, ap);
  if (n > 0) used += (size_t)n;
  if (used > KILN_LOG_BYTES) used = KILN_LOG_BYTES;
  send_log_text(rt, buffer, used);
}

void kiln_log(kiln_runtime *rt, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vlog(rt, NULL, format, ap);
  va_end(ap);
}

void kiln_report_drop(kiln_runtime *rt, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vlog(rt, KILN_LOG_DROP_PREFIX, format, ap);
  va_end(ap);
}

void kiln_set_error(kiln_runtime *rt, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  (void)vsnprintf(rt->last_error, sizeof(rt->last_error), format, ap);
  va_end(ap);
}

void kiln_abort(kiln_runtime *rt, int32_t code, const char *reason) {
  char buffer[KILN_LOG_BYTES + 1];
  int n = snprintf(buffer, sizeof(buffer), KILN_LOG_ABORT_PREFIX "0x%04lx: %s", (unsigned long)code,
                   reason != NULL ? reason : "");
  size_t len = n < 0 ? 0 : (size_t)n;
  if (len > KILN_LOG_BYTES) len = KILN_LOG_BYTES;
  send_log_text(rt, buffer, len);
  kiln_platform_abort(rt->platform, code, reason != NULL ? reason : "");
}

uint64_t kiln_time_ns(kiln_runtime *rt) { return kiln_platform_time_ns(rt->platform); }

uint64_t kiln_time_us(kiln_runtime *rt) { return kiln_platform_time_ns(rt->platform) / 1000u; }

/* ---- stack high-water ---- */

static int stack_high_water(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  size_t i = 0;
  (void)args;
  (void)codes;
  if (num != 0) {
    kiln_set_error(rt, "kiln.runtime.StackHighWater takes no arguments, got %d", num);
    return KILN_ERR_NUM_ARGUMENTS;
  }
  if (rt->stack_low == NULL) {
    kiln_set_error(rt, "kiln.runtime.StackHighWater: this platform does not paint its stack");
    return KILN_ERR_INVALID_ARG;
  }
  while (i < rt->stack_bytes && rt->stack_low[i] == KILN_STACK_PAINT) ++i;
  ret->v_int64 = (int64_t)(rt->stack_bytes - i);
  *ret_code = KILN_TC_INT;
  return 0;
}

int kiln_stack_watch(kiln_runtime *rt, const volatile uint8_t *low, size_t bytes) {
  rt->stack_low = low;
  rt->stack_bytes = bytes;
  return kiln_register_global(rt, "kiln.runtime.StackHighWater", stack_high_water);
}

void *kiln_module_state(kiln_runtime *rt) {
  return rt->calling_module != NULL ? rt->calling_module->state : NULL;
}

/* ---- session layer ---- */

/*
 * A handshake means a new host session: what an earlier session created (executors, arrays,
 * allocations, time evaluators) is released, as its shutdown would have done. A board on a serial
 * line or behind ser2net is not reset between sessions, and a host whose link dropped before its
 * shutdown reached the board would otherwise find it full ("one executor per boot").
 */
static void release_previous_session(kiln_runtime *rt) {
  int i;
  for (i = 1; i < KILN_MAX_MODULES; ++i) rt->modules[i] = NULL;
  rt->num_allocations = 0;
  memset(rt->ndarrays, 0, sizeof(rt->ndarrays));
  memset(rt->evaluators, 0, sizeof(rt->evaluators));
}

static void handle_message(kiln_runtime *rt, uint8_t *payload, uint32_t len) {
  uint16_t sid;
  uint8_t type;
  if (len < 3) {
    kiln_report_drop(rt, "message of %lu bytes: shorter than the 3-byte session header", (unsigned long)len);
    return;
  }
  sid = (uint16_t)(payload[0] | (payload[1] << 8));
  type = payload[2];
  switch (type) {
    case KILN_MSG_START_SESSION_INIT: {
      uint8_t initiator = (uint8_t)(sid & 0xFFu);
      uint8_t body[1];
      if (initiator == 0 || len < 4) {
        kiln_report_drop(rt, "StartSessionInit %s", initiator == 0 ? "with nonce 0" : "without a version byte");
        return;
      }
      release_previous_session(rt);
      rt->nonce = next_nonce(rt->nonce);
      rt->session_id = (uint16_t)(initiator | (rt->nonce << 8));
      rt->session_state = KILN_SESSION_ESTABLISHED;
      body[0] = 1; /* session protocol version */
      kiln_send_begin(rt, KILN_MSG_START_SESSION_REPLY, rt->session_id, 1);
      kiln_send_bytes(rt, body, 1);
      kiln_send_end(rt);
      return;
    }
    case KILN_MSG_TERMINATE_SESSION:
      rt->session_state = KILN_SESSION_NONE;
      return;
    case KILN_MSG_NORMAL:
      if (rt->session_state != KILN_SESSION_ESTABLISHED) {
        kiln_report_drop(rt, "kNormal message for session 0x%04x: no session is established", (unsigned)sid);
        return;
      }
      if (sid != rt->session_id) {
        kiln_report_drop(rt, "kNormal message for session 0x%04x: the session is 0x%04x", (unsigned)sid,
                         (unsigned)rt->session_id);
        return;
      }
      kiln_rpc_handle(rt, payload + 3, len - 3);
      return;
    case KILN_MSG_START_SESSION_REPLY:
      kiln_report_drop(rt, "StartSessionReply: the device never starts a session");
      return;
    case KILN_MSG_LOG:
      kiln_report_drop(rt, "kLog message from the host: logs only go from device to host");
      return;
    default:
      kiln_report_drop(rt, "message of unknown type 0x%02x", (unsigned)type);
      return;
  }
}

static void handle_too_long(kiln_runtime *rt, uint32_t len) {
  /* only the first KILN_MAX_PACKET_BYTES bytes were kept: enough to see whom it was for */
  if (rt->session_state == KILN_SESSION_ESTABLISHED && rt->rx[2] == KILN_MSG_NORMAL &&
      (uint16_t)(rt->rx[0] | (rt->rx[1] << 8)) == rt->session_id) {
    char message[120];
    (void)snprintf(message, sizeof(message),
                   "message of %lu bytes exceeds the device's %lu-byte receive buffer (GetCRTMaxPacketSize)",
                   (unsigned long)len, (unsigned long)KILN_MAX_PACKET_BYTES);
    kiln_rpc_send_exception(rt, message);
    return;
  }
  kiln_report_drop(rt, "frame of %lu bytes: longer than the %lu-byte receive buffer", (unsigned long)len,
                   (unsigned long)KILN_MAX_PACKET_BYTES);
}

int kiln_runtime_feed(kiln_runtime *rt, const uint8_t *bytes, size_t n) {
  while (n > 0 && !rt->shutdown) {
    size_t used = 0;
    kiln_unframe_event ev = kiln_unframer_feed(&rt->unframer, bytes, n, &used);
    uint32_t skipped;
    bytes += used;
    n -= used;
    if (ev == KILN_UNFRAME_NEED_MORE) break;
    skipped = kiln_unframer_take_skipped(&rt->unframer);
    if (skipped > 0) kiln_log(rt, "kiln link: ignored %lu bytes outside frames", (unsigned long)skipped);
    switch (ev) {
      case KILN_UNFRAME_FRAME:
        handle_message(rt, rt->rx, kiln_unframer_length(&rt->unframer));
        break;
      case KILN_UNFRAME_BAD_CRC:
        kiln_report_drop(rt, "frame of %lu bytes: CRC 0x%04x on the wire, 0x%04x computed",
                         (unsigned long)kiln_unframer_length(&rt->unframer), (unsigned)rt->unframer.last_wire_crc,
                         (unsigned)rt->unframer.last_computed_crc);
        break;
      case KILN_UNFRAME_TOO_LONG:
        handle_too_long(rt, kiln_unframer_length(&rt->unframer));
        break;
      case KILN_UNFRAME_INVALID_ESCAPE:
        kiln_report_drop(rt, "frame with invalid escape ff %02x", (unsigned)rt->unframer.last_bad_escape);
        break;
      case KILN_UNFRAME_SHORT_FRAME:
        kiln_report_drop(rt, "incomplete frame: a new frame started inside it");
        break;
      default:
        break;
    }
  }
  return rt->shutdown ? KILN_ERR_SHUTDOWN : KILN_OK;
}

int kiln_runtime_serve(kiln_runtime *rt) {
  uint8_t buffer[KILN_READ_CHUNK_BYTES];
  for (;;) {
    size_t n = kiln_platform_read(rt->platform, buffer, sizeof(buffer));
    if (n == 0) return KILN_ERR_SHORT_WRITE;
    if (kiln_runtime_feed(rt, buffer, n) == KILN_ERR_SHUTDOWN) return KILN_ERR_SHUTDOWN;
  }
}
