#include "kiln_framing.h"

#include <string.h>

#include "kiln_errors.h"

static const uint16_t kCrcTable[256] = {
  0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
  0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
  0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
  0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
  0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
  0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
  0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
  0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
  0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
  0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
  0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
  0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
  0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
  0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
  0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
  0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
  0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
  0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
  0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
  0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
  0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
  0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
  0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
  0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
  0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
  0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
  0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
  0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
  0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
  0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
  0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
  0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0
};

uint16_t kiln_crc16_update(uint16_t crc, const uint8_t *data, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    crc = (uint16_t)((crc << 8) ^ kCrcTable[((crc >> 8) ^ data[i]) & 0xFFu]);
  }
  return crc;
}

static uint16_t crc_byte(uint16_t crc, uint8_t b) {
  return (uint16_t)((crc << 8) ^ kCrcTable[((crc >> 8) ^ b) & 0xFFu]);
}

/* ---- framer ---- */

void kiln_framer_init(kiln_framer *f, kiln_write_fn write, void *write_ctx) {
  memset(f, 0, sizeof(*f));
  f->write = write;
  f->write_ctx = write_ctx;
  f->fresh = 1;
}

static void framer_flush(kiln_framer *f, int end_of_frame) {
  if (f->out_len > 0 || end_of_frame) {
    if (!f->failed && f->write(f->write_ctx, f->out, f->out_len, end_of_frame) != 0) {
      f->failed = 1;
      f->fresh = 1;
    }
    f->out_len = 0;
  }
}

static void framer_put(kiln_framer *f, uint8_t b) {
  if (f->out_len == sizeof(f->out)) framer_flush(f, 0);
  f->out[f->out_len++] = b;
}

/* One field byte: escaped, and into the CRC if with_crc. */
static void framer_put_escaped(kiln_framer *f, uint8_t b, int with_crc) {
  framer_put(f, b);
  if (with_crc) f->crc = crc_byte(f->crc, b);
  if (b == KILN_FRAME_ESCAPE) {
    framer_put(f, b);
    if (with_crc) f->crc = crc_byte(f->crc, b);
  }
}

void kiln_framer_start(kiln_framer *f, uint32_t payload_len) {
  int i;
  f->failed = 0;
  f->out_len = 0;
  if (f->fresh) framer_put(f, KILN_FRAME_NOP);
  f->fresh = 0;
  framer_put(f, KILN_FRAME_ESCAPE);
  framer_put(f, KILN_FRAME_START);
  f->crc = crc_byte(crc_byte(0xFFFFu, KILN_FRAME_ESCAPE), KILN_FRAME_START);
  for (i = 0; i < 4; ++i) framer_put_escaped(f, (uint8_t)(payload_len >> (8 * i)), 1);
  f->remaining = payload_len;
  f->in_frame = 1;
}

int kiln_framer_payload(kiln_framer *f, const uint8_t *data, size_t n) {
  size_t i;
  if (!f->in_frame) return KILN_ERR_SESSION_INVALID_STATE;
  if (n > f->remaining) {
    f->remaining = 0;
    f->in_frame = 0;
    f->failed = 1;
    f->fresh = 1;
    return KILN_ERR_FRAMING_PAYLOAD_OVERFLOW;
  }
  for (i = 0; i < n; ++i) {
    uint8_t b = data[i];
    if (f->out_len + 2 > sizeof(f->out)) framer_flush(f, 0);
    f->out[f->out_len++] = b;
    f->crc = crc_byte(f->crc, b);
    if (b == KILN_FRAME_ESCAPE) {
      f->out[f->out_len++] = b;
      f->crc = crc_byte(f->crc, b);
    }
  }
  f->remaining -= (uint32_t)n;
  return KILN_OK;
}

int kiln_framer_finish(kiln_framer *f) {
  uint16_t crc = f->crc;
  if (!f->in_frame) return KILN_ERR_SESSION_INVALID_STATE;
  f->in_frame = 0;
  if (f->remaining != 0) {
    /* abandon: the peer drops the frame when the next FF FD arrives */
    f->fresh = 1;
    framer_flush(f, 1);
    return KILN_ERR_FRAMING_PAYLOAD_INCOMPLETE;
  }
  framer_put_escaped(f, (uint8_t)(crc & 0xFFu), 0);
  framer_put_escaped(f, (uint8_t)(crc >> 8), 0);
  framer_flush(f, 1);
  return f->failed ? KILN_ERR_SHORT_WRITE : KILN_OK;
}

/* ---- unframer ---- */

enum { ST_HUNT = 0, ST_LENGTH, ST_PAYLOAD, ST_CRC };

void kiln_unframer_init(kiln_unframer *u, uint8_t *buffer, uint32_t capacity) {
  memset(u, 0, sizeof(*u));
  u->buffer = buffer;
  u->capacity = capacity;
  u->state = ST_HUNT;
}

uint32_t kiln_unframer_length(const kiln_unframer *u) { return u->length; }

uint32_t kiln_unframer_take_skipped(kiln_unframer *u) {
  uint32_t s = u->skipped;
  u->skipped = 0;
  return s;
}

static void begin_frame(kiln_unframer *u) {
  u->state = ST_LENGTH;
  u->escape = 0;
  u->got = 0;
  u->length = 0;
  u->wire_crc = 0;
  u->crc = crc_byte(crc_byte(0xFFFFu, KILN_FRAME_ESCAPE), KILN_FRAME_START);
}

/* A decoded field byte. Returns an event when it completes the frame. */
static kiln_unframe_event field_byte(kiln_unframer *u, uint8_t b) {
  switch (u->state) {
    case ST_LENGTH:
      u->length |= (uint32_t)b << (8 * u->got);
      if (++u->got == 4) {
        u->got = 0;
        u->state = u->length == 0 ? ST_CRC : ST_PAYLOAD;
      }
      return KILN_UNFRAME_NEED_MORE;
    case ST_PAYLOAD:
      if (u->got < u->capacity) u->buffer[u->got] = b;
      if (++u->got == u->length) {
        u->got = 0;
        u->state = ST_CRC;
      }
      return KILN_UNFRAME_NEED_MORE;
    default: /* ST_CRC */
      u->wire_crc |= (uint16_t)(b << (8 * u->got));
      if (++u->got < 2) return KILN_UNFRAME_NEED_MORE;
      u->state = ST_HUNT;
      u->last_computed_crc = u->crc;
      u->last_wire_crc = u->wire_crc;
      if (u->wire_crc != u->crc) return KILN_UNFRAME_BAD_CRC;
      if (u->length > u->capacity) return KILN_UNFRAME_TOO_LONG;
      return KILN_UNFRAME_FRAME;
  }
}

kiln_unframe_event kiln_unframer_feed(kiln_unframer *u, const uint8_t *data, size_t n, size_t *consumed) {
  size_t i = 0;
  kiln_unframe_event ev = KILN_UNFRAME_NEED_MORE;
  while (i < n) {
    uint8_t b;
    /* fast path: a run of plain payload bytes */
    if (u->state == ST_PAYLOAD && !u->escape) {
      size_t want = u->length - u->got;
      size_t avail = n - i;
      const uint8_t *ff;
      size_t run = want < avail ? want : avail;
      ff = (const uint8_t *)memchr(data + i, KILN_FRAME_ESCAPE, run);
      if (ff != NULL) run = (size_t)(ff - (data + i));
      if (run > 0) {
        if (u->got < u->capacity) {
          size_t room = u->capacity - u->got;
          memcpy(u->buffer + u->got, data + i, run < room ? run : room);
        }
        u->crc = kiln_crc16_update(u->crc, data + i, run);
        u->got += (uint32_t)run;
        i += run;
        if (u->got == u->length) {
          u->got = 0;
          u->state = ST_CRC;
        }
        continue;
      }
    }
    b = data[i++];
    if (u->state == ST_HUNT) {
      if (u->escape) {
        u->escape = 0;
        if (b == KILN_FRAME_START) {
          begin_frame(u);
          continue;
        }
        u->skipped++; /* the FF */
      }
      if (b == KILN_FRAME_ESCAPE) {
        u->escape = 1;
      } else if (b != KILN_FRAME_NOP) {
        u->skipped++;
      }
      continue;
    }
    if (u->escape) {
      u->escape = 0;
      if (b == KILN_FRAME_START) {
        begin_frame(u);
        ev = KILN_UNFRAME_SHORT_FRAME;
        break;
      }
      if (u->state != ST_CRC) u->crc = crc_byte(u->crc, b);
      if (b == KILN_FRAME_NOP) continue;
      if (b != KILN_FRAME_ESCAPE) {
        u->last_bad_escape = b;
        u->state = ST_HUNT;
        ev = KILN_UNFRAME_INVALID_ESCAPE;
        break;
      }
      ev = field_byte(u, b);
      if (ev != KILN_UNFRAME_NEED_MORE) break;
      continue;
    }
    if (b == KILN_FRAME_ESCAPE) {
      u->escape = 1;
      if (u->state != ST_CRC) u->crc = crc_byte(u->crc, b);
      continue;
    }
    if (u->state != ST_CRC) u->crc = crc_byte(u->crc, b);
    ev = field_byte(u, b);
    if (ev != KILN_UNFRAME_NEED_MORE) break;
  }
  *consumed = i;
  return ev;
}
