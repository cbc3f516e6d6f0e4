/* GDB RSP command parser (see cmd.h). */
#include "gdb/cmd.h"

#include <string.h>

#include "gdb/rsp.h"

int gdb_parse_tid(const char **p, int64_t *tid)
{
	uint64_t v;

	if ((*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*tid = GDB_TID_ALL;
		return 0;
	}
	if (**p == 'p') { /* multiprocess form: pPID.TID (PID ignored) */
		(*p)++;
		if (**p == '-' && (*p)[1] == '1')
			*p += 2;
		else if (rsp_parse_hex(p, &v))
			return -1;
		if (**p != '.')
			return -1;
		(*p)++;
		return gdb_parse_tid(p, tid);
	}
	if (rsp_parse_hex(p, &v) || v > 0x7fffffff)
		return -1;
	*tid = (int64_t)v;
	return 0;
}

static bool starts(const char *p, const char *prefix)
{
	return !strncmp(p, prefix, strlen(prefix));
}

/* "ADDR,LEN" then the expected terminator. */
static int addr_len(const char **p, struct gdb_cmd *c, char end)
{
	if (rsp_parse_hex(p, &c->addr) || **p != ',')
		return -1;
	(*p)++;
	if (rsp_parse_hex(p, &c->len) || **p != end)
		return -1;
	return 0;
}

/* Hex data of exactly `bytes` bytes running to the end of the payload. */
static int hex_data(const char *p, struct gdb_cmd *c, uint64_t bytes)
{
	size_t n = strlen(p);
	if (bytes > GDB_MAX_MEM_XFER || n != bytes * 2)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (rsp_hexval(p[i]) < 0)
			return -1;
	c->data = p;
	c->data_len = (size_t)bytes;
	return 0;
}

static enum gdb_cmd_kind parse_vcont(const char *p, struct gdb_cmd *c)
{
	if (!strcmp(p, "?"))
		return GC_VCONT_QUERY;
	if (*p != ';')
		return GC_MALFORMED;
	while (*p == ';') {
		struct gdb_vcont_action a = { .tid = GDB_TID_ALL };
		uint64_t sig;
		p++;
		switch (*p) {
		case 'c': case 's':
			a.action = *p++;
			break;
		case 'C': case 'S':
			a.action = (char)(*p++ - 'A' + 'a');
			if (rsp_parse_hex(&p, &sig) || sig > 0xff)
				return GC_MALFORMED;
			break;
		default:
			return GC_MALFORMED; /* 't', 'r' and others are not offered */
		}
		if (*p == ':') {
			p++;
			if (gdb_parse_tid(&p, &a.tid))
				return GC_MALFORMED;
		}
		if (c->nvc >= GDB_VCONT_MAX)
			return GC_MALFORMED;
		c->vc[c->nvc++] = a;
	}
	return *p ? GC_MALFORMED : GC_VCONT;
}

static enum gdb_cmd_kind parse_query(const char *p, struct gdb_cmd *c)
{
	if (starts(p, "qSupported"))
		return GC_QSUPPORTED;
	if (!strcmp(p, "QStartNoAckMode"))
		return GC_NOACK;
	if (starts(p, "qAttached"))
		return GC_ATTACHED;
	if (!strcmp(p, "qfThreadInfo"))
		return GC_THREAD_FIRST;
	if (!strcmp(p, "qsThreadInfo"))
		return GC_THREAD_NEXT;
	if (!strcmp(p, "qC"))
		return GC_CURRENT_THREAD;
	if (starts(p, "qThreadExtraInfo,")) {
		p += strlen("qThreadExtraInfo,");
		if (gdb_parse_tid(&p, &c->tid) || *p)
			return GC_MALFORMED;
		return GC_THREAD_EXTRA;
	}
	if (starts(p, "qXfer:features:read:")) {
		const char *a = p + strlen("qXfer:features:read:"), *colon = strchr(a, ':');
		if (!colon || (size_t)(colon - a) >= sizeof(c->annex))
			return GC_MALFORMED;
		memcpy(c->annex, a, (size_t)(colon - a));
		c->annex[colon - a] = 0;
		p = colon + 1;
		if (addr_len(&p, c, 0))
			return GC_MALFORMED;
		return GC_XFER_FEATURES;
	}
	return GC_UNKNOWN;
}

static enum gdb_cmd_kind parse(const char *p, struct gdb_cmd *c)
{
	uint64_t v;
	char op = *p++;

	switch (op) {
	case '?':
		return *p ? GC_MALFORMED : GC_STOP_REASON;
	case 'g':
		return *p ? GC_MALFORMED : GC_READ_REGS;
	case 'G': { /* length checked against the layout by the caller */
		size_t n = strlen(p);
		if (n == 0 || n % 2 || n > 2 * GDB_MAX_MEM_XFER)
			return GC_MALFORMED;
		return hex_data(p, c, n / 2) ? GC_MALFORMED : GC_WRITE_REGS;
	}
	case 'p':
		if (rsp_parse_hex(&p, &v) || *p || v > 1024)
			return GC_MALFORMED;
		c->regno = (unsigned)v;
		return GC_READ_REG;
	case 'P': {
		if (rsp_parse_hex(&p, &v) || *p != '=' || v > 1024)
			return GC_MALFORMED;
		c->regno = (unsigned)v;
		p++;
		size_t n = strlen(p);
		if (n == 0 || n % 2 || n > 64)
			return GC_MALFORMED;
		return hex_data(p, c, n / 2) ? GC_MALFORMED : GC_WRITE_REG;
	}
	case 'm':
		if (addr_len(&p, c, 0))
			return GC_MALFORMED;
		if (c->len > GDB_MAX_MEM_XFER) /* a short read is allowed: gdb asks for the rest */
			c->len = GDB_MAX_MEM_XFER;
		return GC_READ_MEM;
	case 'M':
		if (addr_len(&p, c, ':') || c->len > GDB_MAX_MEM_XFER)
			return GC_MALFORMED;
		return hex_data(p + 1, c, c->len) ? GC_MALFORMED : GC_WRITE_MEM;
	case 'c': case 's':
		if (*p) {
			if (rsp_parse_hex(&p, &c->addr) || *p)
				return GC_MALFORMED;
			c->has_addr = true;
		}
		return op == 'c' ? GC_CONT : GC_STEP;
	case 'H':
		if (*p != 'g' && *p != 'c')
			return GC_MALFORMED;
		c->thread_op = *p++;
		if (gdb_parse_tid(&p, &c->tid) || *p)
			return GC_MALFORMED;
		return GC_SET_THREAD;
	case 'T':
		if (gdb_parse_tid(&p, &c->tid) || *p)
			return GC_MALFORMED;
		return GC_THREAD_ALIVE;
	case 'Z': case 'z':
		if (rsp_parse_hex(&p, &v) || v > 4 || *p != ',')
			return GC_MALFORMED;
		c->bp_type = (unsigned)v;
		p++;
		/* "Z0,addr,kind[;cond...]": conditions are not offered; refuse them. */
		if (addr_len(&p, c, 0))
			return GC_MALFORMED;
		return op == 'Z' ? GC_INSERT_BP : GC_REMOVE_BP;
	case 'D':
		if (*p == ';') { /* D;PID */
			p++;
			if (rsp_parse_hex(&p, &v))
				return GC_MALFORMED;
		}
		return *p ? GC_MALFORMED : GC_DETACH;
	case 'k':
		return GC_KILL;
	case 'v':
		if (starts(p, "Cont"))
			return parse_vcont(p + 4, c);
		return GC_UNKNOWN;
	case 'q': case 'Q':
		return parse_query(p - 1, c);
	default:
		return GC_UNKNOWN;
	}
}

void gdb_cmd_parse(const char *p, struct gdb_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = *p ? parse(p, c) : GC_UNKNOWN;
}
