/* nt-vsock: the nested tier's vsock peer, built static by run-nested.sh and
 * run in L2 (AF_VSOCK, Linux's virtio-vsock driver) and in L1 (unix sockets,
 * the host side of myvmm's Firecracker-style --vsock).
 *
 *   nt-vsock client ADDR BYTES [half|hold]
 *       connects, sends BYTES of a pattern while reading back what the peer
 *       echoes. With "half" it shuts its write side down after the last byte
 *       and reads until EOF; otherwise it reads until BYTES came back, then
 *       closes; with "hold" it prints its line and keeps the connection
 *       open (idle) until it is killed.
 *   nt-vsock echo ADDR [CLOSE_AFTER]
 *       listens, accepts one connection and echoes it until EOF; with
 *       CLOSE_AFTER it closes the connection once it has read that many
 *       bytes (a peer closing mid-stream). Prints "listening" on stderr once
 *       it listens.
 *   nt-vsock cid
 *       prints this machine's CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID).
 *   ADDR: vsock:CID:PORT (client), vsock:PORT (echo), unix:PATH (a plain
 *       unix socket), unix:PATH:PORT (client: myvmm's "CONNECT PORT\n").
 *
 * One result line on stdout:
 *   sent=N sent_fnv=X got=M got_fnv=Y end=eof|ECONNRESET|...|stall secs=S
 * (FNV-1a 64 of the bytes sent and received; "stall": 30 s without progress).
 * The client's pattern (xorshift64) is seeded from ADDR, so connections to
 * different ports carry different bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>

#define STALL_MS 30000
#define CHUNK 65536

struct fnv { uint64_t h; };
static void fnv_init(struct fnv *f) { f->h = 0xcbf29ce484222325ull; }
static void fnv_add(struct fnv *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f->h = (f->h ^ p[i]) * 0x100000001b3ull;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "nt-vsock: %s: %s\n", what, strerror(errno));
	printf("sent=0 sent_fnv=0 got=0 got_fnv=0 end=%s secs=0\n", what);
	exit(1);
}

/* The pattern: xorshift64 bytes, the same on every run. */
static void pattern(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		p[i] = (uint8_t)*s;
	}
}

static const char *end_name(int e)
{
	switch (e) {
	case 0: return "eof";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case ENOTCONN: return "ENOTCONN";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ETIMEDOUT: return "stall";
	default: return strerror(e);
	}
}

static int parse_addr(const char *a, int listening, struct sockaddr_storage *ss,
		      socklen_t *len, unsigned *connect_port)
{
	memset(ss, 0, sizeof(*ss));
	*connect_port = 0;
	if (!strncmp(a, "vsock:", 6)) {
		struct sockaddr_vm *v = (struct sockaddr_vm *)ss;
		unsigned cid = VMADDR_CID_ANY, port;
		if (listening ? sscanf(a + 6, "%u", &port) != 1 :
				sscanf(a + 6, "%u:%u", &cid, &port) != 2)
			return -1;
		v->svm_family = AF_VSOCK;
		v->svm_cid = cid;
		v->svm_port = port;
		*len = sizeof(*v);
		return AF_VSOCK;
	}
	if (!strncmp(a, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)ss;
		const char *p = a + 5, *colon = listening ? NULL : strrchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n == 0 || n >= sizeof(u->sun_path))
			return -1;
		if (colon)
			*connect_port = (unsigned)strtoul(colon + 1, NULL, 10);
		u->sun_family = AF_UNIX;
		memcpy(u->sun_path, p, n);
		*len = sizeof(*u);
		return AF_UNIX;
	}
	return -1;
}

/* myvmm's host-initiated handshake: "CONNECT P\n" -> "OK <port>\n". */
static void handshake(int fd, unsigned port)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	size_t got = 0;

	if (write(fd, line, (size_t)n) != n)
		die("CONNECT");
	while (got < sizeof(line) - 1) {
		ssize_t r = read(fd, line + got, 1);
		if (r <= 0) {
			errno = r ? errno : ECONNRESET;
			die("OK line");
		}
		if (line[got++] == '\n')
			break;
	}
	line[got] = 0;
	if (strncmp(line, "OK ", 3)) {
		errno = EPROTO;
		die("OK line");
	}
	fprintf(stderr, "nt-vsock: %s", line);
}

/* The transfer loop of both modes. client: send `total` pattern bytes (half:
 * then SHUT_WR and read to EOF; else read until `total` came back). echo:
 * write back what arrives until EOF (or close after close_after bytes). */
static int pump(int fd, int client, uint64_t total, int half, uint64_t close_after,
		const char *addr, int hold)
{
	static uint8_t out[CHUNK], in[CHUNK];
	struct fnv fs, fg;
	uint64_t sent = 0, got = 0, seed = 0x9e3779b97f4a7c15ull;
	size_t out_off = 0, out_len = 0;
	int rd_open = 1, wr_shut = 0, err = 0;
	double t0 = now();

	/* A pattern of its own per address: crossed connections show. */
	for (const char *c = addr; *c; c++)
		seed = (seed ^ (uint8_t)*c) * 0x100000001b3ull;
	fnv_init(&fs);
	fnv_init(&fg);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		if (client && out_len == 0 && sent < total) {
			uint64_t n = total - sent < CHUNK ? total - sent : CHUNK;
			pattern(&seed, out, (size_t)n);
			out_off = 0;
			out_len = (size_t)n;
		}
		if (client && half && !wr_shut && sent == total && out_len == 0) {
			shutdown(fd, SHUT_WR);
			wr_shut = 1;
		}
		if (client && !half && got >= total)
			break;
		if (!client && !rd_open && out_len == 0)
			break;
		if (!client && close_after && got >= close_after && out_len == 0)
			break;
		if (client && !rd_open)
			break;
		struct pollfd p = { .fd = fd, .events = 0 };
		if (rd_open && (client || out_len == 0))
			p.events |= POLLIN;
		if (out_len)
			p.events |= POLLOUT;
		int r = poll(&p, 1, STALL_MS);
		if (r == 0) {
			err = ETIMEDOUT;
			break;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR) && rd_open && (p.events & POLLIN)) {
			size_t want = CHUNK;
			if (!client && close_after && close_after - got < want)
				want = (size_t)(close_after - got);
			ssize_t n = recv(fd, in, want, 0);
			if (n > 0) {
				fnv_add(&fg, in, (size_t)n);
				got += (uint64_t)n;
				if (!client) {
					memcpy(out, in, (size_t)n);
					out_off = 0;
					out_len = (size_t)n;
				}
			} else if (n == 0) {
				rd_open = 0;
			} else if (errno != EAGAIN && errno != EINTR) {
				err = errno;
				break;
			}
		}
		if (out_len && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = send(fd, out + out_off, out_len, MSG_NOSIGNAL);
			if (n > 0) {
				fnv_add(&fs, out + out_off, (size_t)n);
				sent += (uint64_t)n;
				out_off += (size_t)n;
				out_len -= (size_t)n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				err = errno;
				break;
			}
		}
	}
	printf("sent=%llu sent_fnv=%016llx got=%llu got_fnv=%016llx end=%s secs=%.3f\n",
	       (unsigned long long)sent, (unsigned long long)fs.h, (unsigned long long)got,
	       (unsigned long long)fg.h, end_name(err), now() - t0);
	fflush(stdout);
	while (hold && !err)
		pause();        /* keep the connection open until killed */
	close(fd);
	return err && err != ECONNRESET && err != EPIPE;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned cport;
	int fam, fd;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && !strcmp(argv[1], "client")) {
		if ((fam = parse_addr(argv[2], 0, &ss, &len, &cport)) < 0) {
			fprintf(stderr, "nt-vsock: bad address %s\n", argv[2]);
			return 2;
		}
		if ((fd = socket(fam, SOCK_STREAM, 0)) < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&ss, len))
			die("connect");
		if (cport)
			handshake(fd, cport);
		return pump(fd, 1, strtoull(argv[3], NULL, 0), argc > 4 && !strcmp(argv[4], "half"), 0,
			    argv[2], argc > 4 && !strcmp(argv[4], "hold"));
	}
	if (argc >= 3 && !strcmp(argv[1], "echo")) {
		int one = 1, l;
		if ((fam = parse_addr(argv[2], 1, &ss, &len, &cport)) < 0) {
			fprintf(stderr, "nt-vsock: bad address %s\n", argv[2]);
			return 2;
		}
		if ((l = socket(fam, SOCK_STREAM, 0)) < 0)
			die("socket");
		if (fam == AF_UNIX)
			unlink(((struct sockaddr_un *)&ss)->sun_path);
		else
			setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&ss, len) || listen(l, 1))
			die("listen");
		fprintf(stderr, "listening\n");
		if ((fd = accept(l, NULL, NULL)) < 0)
			die("accept");
		close(l);
		return pump(fd, 0, 0, 0, argc > 3 ? strtoull(argv[3], NULL, 0) : 0, "", 0);
	}
	if (argc == 2 && !strcmp(argv[1], "cid")) {
		unsigned cid;
		int v = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
		if (v < 0 || ioctl(v, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
			die("cid");
		printf("%u\n", cid);
		return 0;
	}
	fprintf(stderr, "usage: nt-vsock cid | client ADDR BYTES [half|hold] | echo ADDR [CLOSE_AFTER]\n");
	return 2;
}
