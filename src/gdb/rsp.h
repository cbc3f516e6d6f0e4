/* GDB remote serial protocol, the pure parts: packet framing ($data#cs, acks,
 * the 0x03 interrupt byte), reply framing with escapes, and hex helpers.
 * Nothing here does I/O; everything is bounded by the buffer sizes. */
#ifndef MYVMM_GDB_RSP_H
#define MYVMM_GDB_RSP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest payload we accept (advertised as PacketSize). */
#define RSP_MAX_PACKET 4096

enum rsp_event {
	RSP_NONE,          /* byte consumed, nothing complete yet */
	RSP_PACKET,        /* rx->buf holds a NUL-terminated payload of rx->len bytes */
	RSP_BAD_PACKET,    /* checksum mismatch, too long, or a NUL inside: NAK it */
	RSP_INTERRUPT,     /* 0x03 outside a packet (Ctrl-C) */
	RSP_ACK,           /* '+' */
	RSP_NAK,           /* '-': resend the last reply */
};

struct rsp_rx {
	enum { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 } state;
	bool bad;          /* too long or NUL seen: reported at the end */
	uint8_t sum;       /* running checksum of the payload */
	uint8_t csum;      /* received checksum */
	size_t len;
	char buf[RSP_MAX_PACKET + 1];
};

void rsp_rx_init(struct rsp_rx *rx);
enum rsp_event rsp_rx_feed(struct rsp_rx *rx, uint8_t c);

/* "$payload#cs" into out, escaping '$' '#' '}' '*'. Returns the framed length,
 * or 0 when it does not fit in cap. */
size_t rsp_frame(char *out, size_t cap, const char *payload, size_t len);

int rsp_hexval(char c);                /* 0-15, or -1 */
/* Decodes 2*n hex digits into n bytes; -1 on a non-hex digit. */
int rsp_hex_decode(const char *s, size_t n, uint8_t *out);
/* Encodes n bytes as 2*n lower-case hex digits plus a NUL. */
void rsp_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses 1..16 hex digits at *p into v and advances *p; -1 if none or too many. */
int rsp_parse_hex(const char **p, uint64_t *v);
#endif
