/*
 * Framing, byte-compatible with microTVM: [FE] FF FD, u32 LE payload length, payload, u16 LE CRC;
 * every FF inside length, payload and CRC is sent as FF FF; the CRC (CRC-16/CCITT-FALSE) covers
 * FF FD plus the escaped length and payload as they appear on the wire.
 * Unlike microTVM, a frame whose CRC fails is dropped whole, and no framing error is fatal: the
 * unframer reports it and hunts for the next FF FD.
 */
#ifndef KILN_FRAMING_H
#define KILN_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_config.h"

#define KILN_FRAME_ESCAPE 0xFFu
#define KILN_FRAME_NOP 0xFEu
#define KILN_FRAME_START 0xFDu

/* CRC-16/CCITT-FALSE: poly 0x1021, MSB first; start a message with crc = 0xFFFF. */
uint16_t kiln_crc16_update(uint16_t crc, const uint8_t *data, size_t n);

/* Same signature as kiln_platform_write. */
typedef int (*kiln_write_fn)(void *ctx, const uint8_t *bytes, size_t n, int flush);

typedef struct {
  kiln_write_fn write;
  void *write_ctx;
  int fresh;          /* next frame gets a leading FE: after init and after a failed write */
  int in_frame;
  int failed;         /* a write failed in this frame: the rest of it is discarded */
  uint32_t remaining; /* payload bytes still expected in the open frame */
  uint16_t crc;       /* CRC of the frame's bytes before out[crc_from] */
  size_t crc_from;    /* out[crc_from, out_len) still to be folded into crc */
  size_t out_len;
  uint8_t out[KILN_WRITE_CHUNK_BYTES];
} kiln_framer;

void kiln_framer_init(kiln_framer *f, kiln_write_fn write, void *write_ctx);
/* Begins a frame of payload_len bytes (an open frame is abandoned; the peer resyncs on FF FD). */
void kiln_framer_start(kiln_framer *f, uint32_t payload_len);
/* Appends payload; bytes beyond the declared length are ignored and make finish fail. */
int kiln_framer_payload(kiln_framer *f, const uint8_t *data, size_t n);
/* Sends the CRC and flushes. Returns 0, KILN_ERR_FRAMING_PAYLOAD_INCOMPLETE/OVERFLOW, or
 * KILN_ERR_SHORT_WRITE when the platform refused bytes. */
int kiln_framer_finish(kiln_framer *f);

/* What kiln_unframer_feed stopped for. */
typedef enum {
  KILN_UNFRAME_NEED_MORE = 0,  /* all input consumed, no event */
  KILN_UNFRAME_FRAME,          /* a valid frame: payload in buffer[0..length) */
  KILN_UNFRAME_BAD_CRC,        /* frame complete but its CRC failed: dropped */
  KILN_UNFRAME_TOO_LONG,       /* valid CRC but longer than the buffer: dropped */
  KILN_UNFRAME_INVALID_ESCAPE, /* FF followed by a byte other than FF, FE, FD: frame dropped */
  KILN_UNFRAME_SHORT_FRAME     /* FF FD inside a frame: the old frame dropped, a new one begins */
} kiln_unframe_event;

typedef struct {
  uint8_t *buffer;
  uint32_t capacity;
  int state;
  int escape;            /* the previous byte was an unpaired FF */
  uint16_t crc;          /* running CRC of the current frame */
  uint32_t length;       /* declared payload length */
  uint32_t got;          /* bytes of the current field received */
  uint16_t wire_crc;
  uint32_t skipped;      /* bytes discarded while hunting, reset by kiln_unframer_take_skipped */
  /* details of the last event, for reports */
  uint16_t last_computed_crc;
  uint16_t last_wire_crc;
  uint8_t last_bad_escape;
} kiln_unframer;

void kiln_unframer_init(kiln_unframer *u, uint8_t *buffer, uint32_t capacity);
/* Consumes input up to and including the byte that completes an event; *consumed tells how far. */
kiln_unframe_event kiln_unframer_feed(kiln_unframer *u, const uint8_t *data, size_t n, size_t *consumed);
/* Length of the frame just reported (FRAME, BAD_CRC, TOO_LONG). */
uint32_t kiln_unframer_length(const kiln_unframer *u);
uint32_t kiln_unframer_take_skipped(kiln_unframer *u);

#endif /* KILN_FRAMING_H */
