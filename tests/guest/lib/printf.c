/* A tiny printf to COM1 and the few string functions the compiler may call.
 * Supports %s %c %d %u %x %p, a '0' flag, a width and the l/ll length
 * modifiers. No 64-bit division (there is no libgcc in 32-bit builds). */
#include "tk.h"

void *memcpy(void *d, const void *s, size_t n)
{
	char *dp = d;
	const char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	char *dp = d;
	while (n--)
		*dp++ = (char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t kstrlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int kstrncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

/* Divides *v by 10 in place by shift-and-subtract; returns the remainder. */
static unsigned div10(uint64_t *v)
{
	uint64_t q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((*v >> i) & 1);
		if (r >= 10) {
			r -= 10;
			q |= 1ULL << i;
		}
	}
	*v = q;
	return (unsigned)r;
}

struct obuf {
	char buf[512];
	size_t n;
};

static void put(struct obuf *o, char c)
{
	if (o->n < sizeof(o->buf))
		o->buf[o->n++] = c;
}

static void put_num(struct obuf *o, uint64_t v, int base, int width, char pad, bool neg)
{
	char tmp[24];
	int n = 0;
	do {
		unsigned d = base == 16 ? (unsigned)(v & 15) : div10(&v);
		if (base == 16)
			v >>= 4;
		tmp[n++] = "0123456789abcdef"[d];
	} while (v && n < (int)sizeof(tmp));
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
	struct obuf o;
	o.n = 0;
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		uint64_t v;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = (int)kstrlen(s);
			while (width-- > len)
				put(&o, ' ');
			while (*s)
				put(&o, *s++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t sv = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, sv < 0 ? (uint64_t)-sv : (uint64_t)sv, 10, width, pad, sv < 0);
			break;
		}
		case 'u':
		case 'x':
			v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long)
								: va_arg(ap, unsigned);
			put_num(&o, v, *fmt == 'x' ? 16 : 10, width, pad, false);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, width, pad, false);
			break;
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
	}
	serial_lock();
	for (size_t i = 0; i < o.n; i++) {
		if (o.buf[i] == '\n')
			serial_putc('\r');
		serial_putc(o.buf[i]);
	}
	serial_unlock();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
