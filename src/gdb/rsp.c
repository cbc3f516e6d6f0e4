/* GDB RSP framing and hex helpers (see rsp.h). */
#include "gdb/rsp.h"

#include <string.h>

void rsp_rx_init(struct rsp_rx *rx)
{
	rx->state = RX_IDLE;
	rx->bad = false;
	rx->len = 0;
	rx->sum = 0;
	rx->buf[0] = 0;
}

int rsp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum rsp_event rsp_rx_feed(struct rsp_rx *rx, uint8_t c)
{
	int h;

	switch (rx->state) {
	case RX_IDLE:
		if (c == '$') {
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->bad = false;
			return RSP_NONE;
		}
		if (c == 0x03)
			return RSP_INTERRUPT;
		if (c == '+')
			return RSP_ACK;
		if (c == '-')
			return RSP_NAK;
		return RSP_NONE; /* noise between packets */
	case RX_DATA:
		if (c == '#') {
			rx->state = RX_CSUM1;
			return RSP_NONE;
		}
		if (c == '$') { /* a new packet restarts framing: drop the broken one */
			rx->len = 0;
			rx->sum = 0;
			rx->bad = false;
			return RSP_NONE;
		}
		rx->sum = (uint8_t)(rx->sum + c);
		if (c == 0)
			rx->bad = true;
		if (rx->len < RSP_MAX_PACKET)
			rx->buf[rx->len++] = (char)c;
		else
			rx->bad = true;
		return RSP_NONE;
	case RX_CSUM1:
		h = rsp_hexval((char)c);
		rx->csum = (uint8_t)(h < 0 ? 0 : h << 4);
		if (h < 0)
			rx->bad = true;
		rx->state = RX_CSUM2;
		return RSP_NONE;
	case RX_CSUM2:
		h = rsp_hexval((char)c);
		rx->state = RX_IDLE;
		rx->buf[rx->len] = 0;
		if (h < 0 || rx->bad || (uint8_t)(rx->csum | h) != rx->sum)
			return RSP_BAD_PACKET;
		return RSP_PACKET;
	}
	rx->state = RX_IDLE;
	return RSP_NONE;
}

size_t rsp_frame(char *out, size_t cap, const char *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)payload[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';
		if (o + (esc ? 2 : 1) + 3 > cap)
			return 0;
		if (esc) {
			out[o++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[o++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[o++] = '#';
	out[o++] = hex[sum >> 4];
	out[o++] = hex[sum & 15];
	return o;
}

int rsp_hex_decode(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = rsp_hexval(s[2 * i]), lo = hi < 0 ? -1 : rsp_hexval(s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void rsp_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = 0;
}

int rsp_parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0, h;

	while ((h = rsp_hexval(*s)) >= 0) {
		if (++n > 16)
			return -1;
		x = x << 4 | (uint64_t)h;
		s++;
	}
	if (!n)
		return -1;
	*v = x;
	*p = s;
	return 0;
}
