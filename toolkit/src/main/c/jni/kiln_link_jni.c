/*
 * The host end of the link's per-byte work, in C: escaping and un-escaping microTVM frame payloads
 * with memchr/memcpy, and the CRC-16 of the runtime's own kiln_framing.c (carry-less multiplication
 * on x86-64), which Java 17 cannot express (its CRC intrinsics use other polynomials). Built with
 * gcc into a JNI library on first use (dev.kiln.rpc.NativeLink) together with kiln_framing.c;
 * dev.kiln.rpc.Framer and Unframer keep their state machines in Java and hand a whole run of payload
 * (up to a buffer's worth) to one call, so the JNI cost is per packet, not per byte.
 *
 * Results are packed into one jlong: bits 0-15 the CRC, 16-39 the bytes consumed, 40-63 the bytes
 * produced (callers keep both below 2^23). The offsets are not checked here: NativeLink's Java
 * wrappers check them against the arrays (Objects.checkFromToIndex) before every call.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#include "kiln_framing.h"

static jlong pack(uint16_t crc, size_t consumed, size_t produced) {
  return (jlong)(((uint64_t)produced << 40) | ((uint64_t)consumed << 16) | crc);
}

/*
 * Escapes src[off, off+len) into out[outOff, outEnd) (every FF doubled) while room is left for the
 * next run or doubled FF, and returns the CRC of what it wrote (continued from crc), the source bytes
 * consumed and the bytes written. Same loop as kiln_framer_payload.
 */
JNIEXPORT jlong JNICALL Java_dev_kiln_rpc_NativeLink_escape0(JNIEnv *env, jclass cls, jint crc, jbyteArray src,
                                                           jint off, jint len, jbyteArray out, jint outOff,
                                                           jint outEnd) {
  uint8_t *s;
  uint8_t *o;
  const uint8_t *data;
  size_t n = (size_t)len;
  size_t at = (size_t)outOff;
  size_t end = (size_t)outEnd;
  uint16_t c;
  (void)cls;
  s = (uint8_t *)(*env)->GetPrimitiveArrayCritical(env, src, NULL);
  if (s == NULL) return -1;
  o = (uint8_t *)(*env)->GetPrimitiveArrayCritical(env, out, NULL);
  if (o == NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, src, s, JNI_ABORT);
    return -1;
  }
  data = s + off;
  while (n > 0u && end - at >= 2u) {
    size_t room = end - at;
    size_t run = n < room - 1u ? n : room - 1u;
    const uint8_t *ff = (const uint8_t *)memchr(data, KILN_FRAME_ESCAPE, run);
    if (ff != NULL) run = (size_t)(ff - data) + 1u;
    memcpy(o + at, data, run);
    at += run;
    if (ff != NULL) o[at++] = KILN_FRAME_ESCAPE;
    data += run;
    n -= run;
  }
  c = kiln_crc16_update((uint16_t)crc, o + outOff, at - (size_t)outOff);
  (*env)->ReleasePrimitiveArrayCritical(env, out, o, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, src, s, JNI_ABORT);
  return pack(c, (size_t)len - n, at - (size_t)outOff);
}

/*
 * Decodes wire bytes in[from, to) into dst[at, at+need) while they are plain bytes or complete FF FF
 * pairs, and returns the CRC of the wire bytes it consumed (continued from crc), how many it consumed
 * and how many payload bytes it produced. It stops when the payload is complete, the input ends, or
 * at an FF whose partner is not an FF or not yet here: that byte is left to the caller's state
 * machine (an FE nop, a new frame's FD, an invalid escape).
 */
JNIEXPORT jlong JNICALL Java_dev_kiln_rpc_NativeLink_unescape0(JNIEnv *env, jclass cls, jint crc, jbyteArray in,
                                                             jint from, jint to, jbyteArray dst, jint at,
                                                             jint need) {
  uint8_t *w;
  uint8_t *d;
  size_t i = (size_t)from;
  size_t end = (size_t)to;
  size_t o = (size_t)at;
  size_t stop = (size_t)at + (size_t)need;
  uint16_t c;
  (void)cls;
  w = (uint8_t *)(*env)->GetPrimitiveArrayCritical(env, in, NULL);
  if (w == NULL) return -1;
  d = (uint8_t *)(*env)->GetPrimitiveArrayCritical(env, dst, NULL);
  if (d == NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, in, w, JNI_ABORT);
    return -1;
  }
  while (o < stop && i < end) {
    size_t n = stop - o < end - i ? stop - o : end - i;
    const uint8_t *ff = (const uint8_t *)memchr(w + i, KILN_FRAME_ESCAPE, n);
    size_t run = ff != NULL ? (size_t)(ff - (w + i)) : n;
    memcpy(d + o, w + i, run);
    o += run;
    i += run;
    if (ff == NULL || i + 1u >= end || w[i + 1u] != KILN_FRAME_ESCAPE) break;
    d[o++] = KILN_FRAME_ESCAPE;
    i += 2u;
  }
  c = kiln_crc16_update((uint16_t)crc, w + from, i - (size_t)from);
  (*env)->ReleasePrimitiveArrayCritical(env, dst, d, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, in, w, JNI_ABORT);
  return pack(c, i - (size_t)from, o - (size_t)at);
}

/* The CRC of data[off, off+len) continued from crc, for the tests that hold this build to Java's. */
JNIEXPORT jint JNICALL Java_dev_kiln_rpc_NativeLink_crc0(JNIEnv *env, jclass cls, jint crc, jbyteArray data, jint off,
                                                       jint len) {
  uint8_t *p;
  uint16_t c;
  (void)cls;
  p = (uint8_t *)(*env)->GetPrimitiveArrayCritical(env, data, NULL);
  if (p == NULL) return -1;
  c = kiln_crc16_update((uint16_t)crc, p + off, (size_t)len);
  (*env)->ReleasePrimitiveArrayCritical(env, data, p, JNI_ABORT);
  return c;
}
