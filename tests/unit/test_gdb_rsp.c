/* gdb stub: packet framing, hex helpers, the command parser, --gdb specs. */
#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "gdb/cmd.h"
#include "gdb/rsp.h"
#include "gdb/spec.h"

static enum rsp_event feed(struct rsp_rx *rx, const char *s)
{
	enum rsp_event e = RSP_NONE, last = RSP_NONE;
	for (; *s; s++)
		if ((e = rsp_rx_feed(rx, (uint8_t)*s)) != RSP_NONE)
			last = e;
	return last;
}

START_TEST(framing)
{
	struct rsp_rx rx;
	rsp_rx_init(&rx);
	ck_assert_int_eq(feed(&rx, "$g#67"), RSP_PACKET);
	ck_assert_str_eq(rx.buf, "g");
	ck_assert_int_eq(feed(&rx, "$g#68"), RSP_BAD_PACKET);   /* checksum */
	ck_assert_int_eq(feed(&rx, "$g#zz"), RSP_BAD_PACKET);   /* not hex */
	ck_assert_int_eq(rsp_rx_feed(&rx, '+'), RSP_ACK);
	ck_assert_int_eq(rsp_rx_feed(&rx, '-'), RSP_NAK);
	ck_assert_int_eq(rsp_rx_feed(&rx, 0x03), RSP_INTERRUPT);
	/* 0x03 inside a packet is data, not an interrupt */
	ck_assert_int_eq(rsp_rx_feed(&rx, '$'), RSP_NONE);
	ck_assert_int_eq(rsp_rx_feed(&rx, 0x03), RSP_NONE);
	ck_assert_int_eq(feed(&rx, "#03"), RSP_PACKET);
	/* a '$' restarts a broken packet */
	ck_assert_int_eq(feed(&rx, "$junk$?#3f"), RSP_PACKET);
	ck_assert_str_eq(rx.buf, "?");
	/* a NUL inside is refused */
	ck_assert_int_eq(rsp_rx_feed(&rx, '$'), RSP_NONE);
	rsp_rx_feed(&rx, 0);
	ck_assert_int_eq(feed(&rx, "#00"), RSP_BAD_PACKET);
}
END_TEST

START_TEST(too_long)
{
	struct rsp_rx rx;
	rsp_rx_init(&rx);
	rsp_rx_feed(&rx, '$');
	for (int i = 0; i < RSP_MAX_PACKET + 100; i++)
		ck_assert_int_eq(rsp_rx_feed(&rx, 'a'), RSP_NONE);
	ck_assert_int_eq(feed(&rx, "#00"), RSP_BAD_PACKET);
	ck_assert_uint_le(rx.len, RSP_MAX_PACKET);
	ck_assert_int_eq(feed(&rx, "$g#67"), RSP_PACKET); /* and recovers */
}
END_TEST

START_TEST(reply_frame)
{
	char out[64];
	size_t n = rsp_frame(out, sizeof(out), "OK", 2);
	ck_assert_uint_eq(n, 6);
	ck_assert(!memcmp(out, "$OK#9a", 6));
	/* '#', '$', '}' and '*' are escaped as '}' c^0x20 */
	n = rsp_frame(out, sizeof(out), "a#b*", 4);
	ck_assert(!memcmp(out, "$a}\x03" "b}\x0a#", 8));
	ck_assert_uint_eq(rsp_frame(out, 5, "OK", 2), 0); /* does not fit */
}
END_TEST

START_TEST(hex)
{
	uint8_t b[4];
	char h[9];
	const char *p = "1fZ";
	uint64_t v;
	ck_assert_int_eq(rsp_hex_decode("deadBEEF", 4, b), 0);
	ck_assert_uint_eq(b[0], 0xde);
	ck_assert_uint_eq(b[3], 0xef);
	ck_assert_int_eq(rsp_hex_decode("de0g", 2, b), -1);
	rsp_hex_encode(b, 4, h);
	ck_assert_str_eq(h, "deadbeef");
	ck_assert_int_eq(rsp_parse_hex(&p, &v), 0);
	ck_assert_uint_eq(v, 0x1f);
	ck_assert_str_eq(p, "Z");
	p = "12345678901234567"; /* 17 digits */
	ck_assert_int_eq(rsp_parse_hex(&p, &v), -1);
	p = "";
	ck_assert_int_eq(rsp_parse_hex(&p, &v), -1);
}
END_TEST

static struct gdb_cmd parse(const char *s)
{
	struct gdb_cmd c;
	gdb_cmd_parse(s, &c);
	return c;
}

START_TEST(commands)
{
	struct gdb_cmd c = parse("m100000,40");
	ck_assert_int_eq(c.kind, GC_READ_MEM);
	ck_assert_uint_eq(c.addr, 0x100000);
	ck_assert_uint_eq(c.len, 0x40);
	c = parse("m100000,100000"); /* more than one reply holds: clamped */
	ck_assert_int_eq(c.kind, GC_READ_MEM);
	ck_assert_uint_eq(c.len, GDB_MAX_MEM_XFER);
	c = parse("M1000,2:abcd");
	ck_assert_int_eq(c.kind, GC_WRITE_MEM);
	ck_assert_uint_eq(c.data_len, 2);
	c = parse("Z1,ffffffff81000000,1");
	ck_assert_int_eq(c.kind, GC_INSERT_BP);
	ck_assert_uint_eq(c.bp_type, 1);
	ck_assert_uint_eq(c.addr, 0xffffffff81000000ULL);
	c = parse("z2,2000,4");
	ck_assert_int_eq(c.kind, GC_REMOVE_BP);
	ck_assert_uint_eq(c.len, 4);
	c = parse("P8=00001000");
	ck_assert_int_eq(c.kind, GC_WRITE_REG);
	ck_assert_uint_eq(c.regno, 8);
	ck_assert_uint_eq(c.data_len, 4);
	c = parse("Hg2");
	ck_assert_int_eq(c.kind, GC_SET_THREAD);
	ck_assert_int_eq(c.thread_op, 'g');
	ck_assert_int_eq(c.tid, 2);
	c = parse("Hc-1");
	ck_assert_int_eq(c.tid, GDB_TID_ALL);
	c = parse("Hgp1.3");
	ck_assert_int_eq(c.kind, GC_SET_THREAD);
	ck_assert_int_eq(c.tid, 3);
	c = parse("vCont;s:1;c");
	ck_assert_int_eq(c.kind, GC_VCONT);
	ck_assert_uint_eq(c.nvc, 2);
	ck_assert_int_eq(c.vc[0].action, 's');
	ck_assert_int_eq(c.vc[0].tid, 1);
	ck_assert_int_eq(c.vc[1].action, 'c');
	ck_assert_int_eq(c.vc[1].tid, GDB_TID_ALL);
	c = parse("vCont;C05:2");
	ck_assert_int_eq(c.vc[0].action, 'c');
	ck_assert_int_eq(c.vc[0].tid, 2);
	ck_assert_int_eq(parse("vCont?").kind, GC_VCONT_QUERY);
	c = parse("qXfer:features:read:target.xml:0,ffb");
	ck_assert_int_eq(c.kind, GC_XFER_FEATURES);
	ck_assert_str_eq(c.annex, "target.xml");
	ck_assert_uint_eq(c.len, 0xffb);
	ck_assert_int_eq(parse("qSupported:swbreak+").kind, GC_QSUPPORTED);
	ck_assert_int_eq(parse("QStartNoAckMode").kind, GC_NOACK);
	ck_assert_int_eq(parse("qfThreadInfo").kind, GC_THREAD_FIRST);
	ck_assert_int_eq(parse("D").kind, GC_DETACH);
	ck_assert_int_eq(parse("D;1").kind, GC_DETACH);
	ck_assert_int_eq(parse("k").kind, GC_KILL);
	c = parse("c100000");
	ck_assert_int_eq(c.kind, GC_CONT);
	ck_assert(c.has_addr);
	ck_assert_int_eq(parse("vMustReplyEmpty").kind, GC_UNKNOWN);
	ck_assert_int_eq(parse("X100,0:").kind, GC_UNKNOWN);
	ck_assert_int_eq(parse("").kind, GC_UNKNOWN);
}
END_TEST

START_TEST(malformed)
{
	static const char *const bad[] = {
		"m", "m100", "m100,", "mzz,1", "m1,2x", "m11111111111111111,1",
		"M100,2:abc", "M100,2:abcdef", "M100,1:zz", "M100,1", "Mx,1:00",
		"Z5,100,1", "Z1", "Z1,100", "Z1,100,1;X1,0", "zz",
		"p", "pq", "p401", "P8", "P8=", "P8=0", "P8=zz",
		"H", "Hx1", "Hg", "Hgq", "T", "Tz", "g1", "?x", "G0", "Gzz",
		"vCont", "vCont;", "vCont;x", "vCont;s:", "vCont;C:1", "vCont;Czz",
		"qXfer:features:read:target.xml", "qXfer:features:read:target.xml:0",
		"qXfer:features:read:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.xml:0,1",
		"qThreadExtraInfo,", "D;", "Dx", "c12q", "s-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gdb_cmd c = parse(bad[i]);
		ck_assert_msg(c.kind == GC_MALFORMED, "'%s' parsed as kind %d", bad[i], c.kind);
	}
	/* 17 vCont actions overflow the table */
	char many[256] = "vCont";
	for (int i = 0; i < GDB_VCONT_MAX + 1; i++)
		strcat(many, ";c");
	ck_assert_int_eq(parse(many).kind, GC_MALFORMED);
}
END_TEST

START_TEST(specs)
{
	struct gdb_spec s;
	char err[256];
	ck_assert_int_eq(gdb_spec_parse("tcp::1234", &s, err, sizeof(err)), 0);
	ck_assert(!s.is_unix);
	ck_assert_str_eq(s.host, "127.0.0.1");
	ck_assert_uint_eq(s.port, 1234);
	ck_assert_int_eq(gdb_spec_parse("tcp:0.0.0.0:99", &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.host, "0.0.0.0");
	ck_assert_int_eq(gdb_spec_parse("tcp:4444", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.port, 4444);
	ck_assert_int_eq(gdb_spec_parse("1234", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(gdb_spec_parse("unix:/tmp/g.sock", &s, err, sizeof(err)), 0);
	ck_assert(s.is_unix);
	ck_assert_str_eq(s.path, "/tmp/g.sock");
	static const char *const bad[] = { "tcp:", "tcp::", "tcp::65536", "tcp:h:x", "unix:", "udp::1",
					   "", "tcp::-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_msg(gdb_spec_parse(bad[i], &s, err, sizeof(err)) == -EINVAL, "%s", bad[i]);
		ck_assert(strstr(err, "--gdb"));
	}
	char longp[200] = "unix:";
	memset(longp + 5, 'a', 150);
	ck_assert_int_eq(gdb_spec_parse(longp, &s, err, sizeof(err)), -EINVAL);
}
END_TEST

CHECK_MAIN("gdb_rsp", framing, too_long, reply_frame, hex, commands, malformed, specs)
