/*
 * Status codes of the device runtime: category << 8 | code, the scheme (and values) of microTVM's
 * tvm_crt_error_t, so a code means the same on both. 0 is success.
 */
#ifndef KILN_ERRORS_H
#define KILN_ERRORS_H

#define KILN_OK 0

/* function registry */
#define KILN_ERR_NAME_NOT_FOUND 0x0100
#define KILN_ERR_INDEX_INVALID 0x0101
#define KILN_ERR_REGISTRY_FULL 0x0102
/* framing */
#define KILN_ERR_FRAMING_SHORT_PACKET 0x0201
#define KILN_ERR_FRAMING_INVALID_ESCAPE 0x0202
#define KILN_ERR_FRAMING_PAYLOAD_OVERFLOW 0x0203
#define KILN_ERR_FRAMING_PAYLOAD_INCOMPLETE 0x0204
/* write stream */
#define KILN_ERR_SHORT_WRITE 0x0300
/* session */
#define KILN_ERR_SESSION_INVALID_STATE 0x0400
#define KILN_ERR_RECEIVE_BUFFER_OVERFLOW 0x0402
/* platform */
#define KILN_ERR_CHECK_FAILURE 0x0500
#define KILN_ERR_SHUTDOWN 0x0502
#define KILN_ERR_NO_MEMORY 0x0503
/* function call */
#define KILN_ERR_NUM_ARGUMENTS 0x0800
#define KILN_ERR_WRONG_ARG_TYPE 0x0801
#define KILN_ERR_NOT_IMPLEMENTED 0x0802
#define KILN_ERR_INVALID_ARG 0x0803

#endif /* KILN_ERRORS_H */
