/* The control socket's HTTP/1.1 request parser. */
#include <stdio.h>
#include <string.h>

#include "api/http.h"
#include "check_util.h"

static int parse(const char *s, struct http_request *r)
{
	return http_parse_request(s, strlen(s), r);
}

START_TEST(simple_get)
{
	struct http_request r;
	const char *s = "GET /machine-config HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
	ck_assert_int_eq(parse(s, &r), 1);
	ck_assert_int_eq(r.method, HTTP_GET);
	ck_assert_str_eq(r.path, "/machine-config");
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert(r.keep_alive);
	ck_assert_uint_eq(r.total_len, strlen(s));
}
END_TEST

START_TEST(put_with_body_and_pipelining)
{
	struct http_request r;
	const char *s = "PUT /actions HTTP/1.1\r\ncontent-length:  31 \r\n\r\n"
			"{\"action_type\":\"InstanceStart\"}GET / HTTP/1.1\r\n\r\n";
	ck_assert_int_eq(parse(s, &r), 1);
	ck_assert_int_eq(r.method, HTTP_PUT);
	ck_assert_uint_eq(r.body_len, 31);
	ck_assert(!memcmp(r.body, "{\"action_type\":\"InstanceStart\"}", 31));
	ck_assert_int_eq(http_parse_request(s + r.total_len, strlen(s) - r.total_len, &r), 1);
	ck_assert_str_eq(r.path, "/");
}
END_TEST

START_TEST(incomplete_needs_more)
{
	struct http_request r;
	const char *full = "PATCH /vm HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"state\":\"Paused\"}";
	for (size_t n = 0; n < strlen(full); n++)
		ck_assert_msg(http_parse_request(full, n, &r) == 0, "prefix %zu", n);
	ck_assert_int_eq(http_parse_request(full, strlen(full), &r), 1);
	ck_assert_int_eq(r.method, HTTP_PATCH);
}
END_TEST

START_TEST(rejects)
{
	struct http_request r;
	ck_assert_int_eq(parse("GET / HTTP/1.1\nHost: x\n\n", &r), -400);          /* bare LF */
	ck_assert_int_eq(parse("GET / HTTP/2.0\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.2\r\n\r\n", &r), -505);
	ck_assert_str_eq(r.error, "HTTP/1.2 is not supported: use HTTP/1.1");
	ck_assert_int_eq(parse("GET noslash HTTP/1.1\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET  / HTTP/1.1\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("G(T / HTTP/1.1\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -411);
	ck_assert_str_eq(r.error, "Transfer-Encoding (chunked bodies) is not accepted: send the body "
			 "with Content-Length");
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", &r), -413);
	ck_assert_str_eq(r.error, "the request body (Content-Length 99999999) is larger than the "
			 "limit of 65536 bytes");
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &r), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", &r), -400);
}
END_TEST

START_TEST(bounds)
{
	struct http_request r;
	static char buf[HTTP_MAX_HEAD * 2];
	/* A path over HTTP_MAX_PATH. */
	strcpy(buf, "GET /");
	memset(buf + 5, 'a', HTTP_MAX_PATH + 1);
	strcpy(buf + 5 + HTTP_MAX_PATH + 1, " HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(parse(buf, &r), -414);
	ck_assert_str_eq(r.error, "the request path is 258 bytes; the limit is 256");
	/* Too many headers. */
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(buf + n, "X-%d: y\r\n", i);
	strcpy(buf + n, "\r\n");
	ck_assert_int_eq(parse(buf, &r), -431);
	ck_assert_str_eq(r.error, "more than 32 header fields");
	/* A head that never ends. */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX: ");
	memset(buf + n, 'z', sizeof(buf) - n - 1);
	buf[sizeof(buf) - 1] = 0;
	ck_assert_int_eq(parse(buf, &r), -431);
}
END_TEST

START_TEST(connection_close_and_http10)
{
	struct http_request r;
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r), 1);
	ck_assert(!r.keep_alive);
	ck_assert_int_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), 1);
	ck_assert(!r.keep_alive);
	char head[256];
	int n = http_format_head(head, sizeof(head), 204, 0, true);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(head, "HTTP/1.1 204 No Content\r\nServer: myvmm\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(http_format_head(head, 10, 200, 5, true), -1);
}
END_TEST

CHECK_MAIN("http", simple_get, put_with_body_and_pipelining, incomplete_needs_more, rejects,
	bounds, connection_close_and_http10)
