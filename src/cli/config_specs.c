/* Value parsers for option arguments: sizes, durations, --disk and --net
 * specs. Pure: no files are opened. */
#include "cli/config.h"
#include "devices/virtio/blk.h"
#include "host/disk_format.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, CONFIG_ERR_LEN, __VA_ARGS__), -EINVAL)

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1ULL << 20; /* a bare number is MiB, as in QEMU's -m */

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B': mult = 1; break;
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (toupper((unsigned char)*end) == 'B' && mult != 1)
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0 || v > 1e9)
		return -ERANGE;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = (uint64_t)(v * 1000.0 + 0.5);
	return 0;
}

/* Splits the next comma-separated field off *p into out (",," is a literal
 * comma, as in QEMU). Returns 0, 1 at the end of the string, or -1 when the
 * field does not fit in out. */
static int next_field(const char **p, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = *p;

	if (!s)
		return 1;
	while (*s) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++; /* ",," -> "," */
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = *s;
		s++;
	}
	out[n] = 0;
	*p = *s ? s + 1 : NULL;
	return 0;
}

int parse_disk(const char *spec, struct disk_config *d, char err[CONFIG_ERR_LEN])
{
	char tok[4096];
	const char *p = spec;
	int ret = 0, f;

	memset(d, 0, sizeof(*d));
	/* The first field is always the path (it may contain '='). */
	f = next_field(&p, tok, sizeof(tok));
	if (f < 0)
		return ERR("--disk: the image path is longer than %zu bytes", sizeof(tok) - 1);
	if (f > 0 || !*tok)
		return ERR("--disk %.200s: no image path; use --disk PATH[,ro][,cache=none][,serial=ID]", spec);
	d->path = strdup(tok);
	if (!d->path)
		return -ENOMEM;
	while ((f = next_field(&p, tok, sizeof(tok))) == 0) {
		if (!strcmp(tok, "ro"))
			d->ro = true;
		else if (!strcmp(tok, "rw"))
			d->ro = false;
		else if (!strcmp(tok, "cache=none"))
			d->cache = DISK_CACHE_NONE;
		else if (!strcmp(tok, "cache=writeback"))
			d->cache = DISK_CACHE_WRITEBACK;
		else if (!strcmp(tok, "aio=io_uring"))
			d->aio = BLK_AIO_IO_URING;
		else if (!strcmp(tok, "aio=native"))
			d->aio = BLK_AIO_NATIVE;
		else if (!strcmp(tok, "aio=threads"))
			d->aio = BLK_AIO_THREADS;
		else if (!strcmp(tok, "if=virtio"))
			d->iface = DISK_IF_VIRTIO;
		else if (!strcmp(tok, "if=ide"))
			d->iface = DISK_IF_IDE;
		else if (!strncmp(tok, "format=", 7)) {
			int fmt = disk_format_parse(tok + 7);
			if (fmt < 0 || fmt == DISK_FMT_AUTO) {
				ret = ERR("--disk %.200s: unknown format '%.100s'; use format=raw, qcow2, "
					  "vmdk, vdi, vhdx, vpc, qed, ... (qemu-img's names)", spec, tok + 7);
				goto out;
			}
			d->format = fmt;
		} else if (!strncmp(tok, "serial=", 7)) {
			if (strlen(tok + 7) > 20) {
				ret = ERR("--disk %.200s: serial '%.100s' is longer than 20 characters", spec, tok + 7);
				goto out;
			}
			strcpy(d->serial, tok + 7);
		} else {
			ret = ERR("--disk %.200s: unknown option '%.100s'; use ro, cache=none|writeback, "
				  "aio=io_uring|native|threads, serial=ID, format=raw or if=virtio|ide (write ,, for a comma in the path)", spec, tok);
			goto out;
		}
	}
	if (f < 0)
		ret = ERR("--disk %.200s: an option is too long", spec);
out:
	if (ret) {
		free(d->path);
		d->path = NULL;
	}
	return ret;
}

static const uint8_t default_mac[6] = CONFIG_DEFAULT_MAC;

/* "A.B.C.D" or "" (-> def, network byte order). */
static bool parse_ip4(const char *s, size_t n, uint32_t def, uint32_t *out)
{
	char buf[16];
	struct in_addr a;

	if (n == 0) {
		*out = def;
		return true;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*out = a.s_addr;
	return true;
}

/* "1".."65535" of length n. */
static bool parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT" (QEMU's hostfwd syntax). */
static bool parse_hostfwd(const char *s, struct net_hostfwd *f)
{
	const char *c1 = strchr(s, ':'), *c2, *dash, *c3;

	if (!c1)
		return false;
	if (c1 == s || (c1 - s == 3 && !strncmp(s, "tcp", 3)))
		f->udp = false;
	else if (c1 - s == 3 && !strncmp(s, "udp", 3))
		f->udp = true;
	else
		return false;
	c2 = strchr(c1 + 1, ':');
	dash = c2 ? strchr(c2 + 1, '-') : NULL;
	c3 = dash ? strchr(dash + 1, ':') : NULL;
	if (!c3 || strchr(c3 + 1, ':'))
		return false;
	return parse_ip4(c1 + 1, (size_t)(c2 - c1 - 1), htonl(INADDR_LOOPBACK), &f->host_addr) &&
	       parse_port(c2 + 1, (size_t)(dash - c2 - 1), &f->host_port) &&
	       parse_ip4(dash + 1, (size_t)(c3 - dash - 1), htonl(NET_USER_GUEST), &f->guest_addr) &&
	       parse_port(c3 + 1, strlen(c3 + 1), &f->guest_port);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &n) != 6 || n != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

int parse_net(const char *spec, struct net_config *n, char err[CONFIG_ERR_LEN])
{
	struct net_config t = { .kind = NET_USER };
	char tok[256];
	const char *p = spec;
	int nf;

	memcpy(t.mac, default_mac, 6);
	if (!strcmp(spec, "none")) {
		t.kind = NET_NONE;
		*n = t;
		return 0;
	}
	if (next_field(&p, tok, sizeof(tok)) != 0 || strcmp(tok, "user"))
		return ERR("--net %.200s: unknown network; use user[,hostfwd=...][,mac=...] or none", spec);
	while ((nf = next_field(&p, tok, sizeof(tok))) == 0) {
		if (!strncmp(tok, "hostfwd=", 8)) {
			if (t.nfwd >= CONFIG_MAX_HOSTFWD)
				return ERR("--net %.200s: at most %d hostfwd rules", spec, CONFIG_MAX_HOSTFWD);
			struct net_hostfwd *f = &t.fwd[t.nfwd];
			if (!parse_hostfwd(tok + 8, f))
				return ERR("--net %.200s: bad '%.100s'; use hostfwd=tcp|udp:[HOSTADDR]:"
					   "HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. hostfwd=tcp::2222-:22", spec, tok);
			if ((ntohl(f->guest_addr) & 0xffffff00u) != NET_USER_NETWORK)
				return ERR("--net %.200s: guest address in '%.100s' is outside 10.0.2.0/24",
					   spec, tok);
			for (unsigned i = 0; i < t.nfwd; i++)
				if (t.fwd[i].udp == f->udp && t.fwd[i].host_port == f->host_port &&
				    t.fwd[i].host_addr == f->host_addr)
					return ERR("--net %.200s: host port %u forwarded twice", spec,
						   f->host_port);
			t.nfwd++;
		} else if (!strcmp(tok, "host-loopback=on") || !strcmp(tok, "host-loopback=off")) {
			t.host_loopback = tok[15] == 'n';
		} else if (!strncmp(tok, "host-loopback=", 14)) {
			return ERR("--net %.200s: bad '%.100s'; use host-loopback=on (the guest may reach "
				   "the host's 127.0.0.1 via 10.0.2.2) or host-loopback=off (default)",
				   spec, tok);
		} else if (!strncmp(tok, "mac=", 4)) {
			if (!parse_mac(tok + 4, t.mac) || (t.mac[0] & 1))
				return ERR("--net %.200s: bad '%.100s'; give a unicast MAC like "
					   "mac=52:54:00:12:34:56", spec, tok);
		} else {
			return ERR("--net %.200s: unknown option '%.100s'; use hostfwd=..., mac=... or host-loopback=on|off",
				   spec, tok);
		}
	}
	if (nf < 0)
		return ERR("--net %.200s: an option is too long", spec);
#ifndef HAVE_SLIRP
	return ERR("--net user: this myvmm was built without libslirp (install libslirp-dev and "
		   "rebuild); use --net none");
#endif
	*n = t;
	return 0;
}

int parse_share(const char *spec, bool external, struct share_config *s, char err[CONFIG_ERR_LEN])
{
	const char *opt = external ? "--vhost-user-fs" : "--share";
	const char *use = external ? "SOCKET[,tag=TAG]" : "HOSTDIR[,tag=TAG][,ro]";
	char tok[4096];
	const char *p = spec;
	int f, ret = 0;

	memset(s, 0, sizeof(*s));
	strcpy(s->tag, CONFIG_SHARE_DEFAULT_TAG);
	f = next_field(&p, tok, sizeof(tok));
	if (f < 0)
		return ERR("%s: the path is longer than %zu bytes", opt, sizeof(tok) - 1);
	if (f > 0 || !*tok)
		return ERR("%s %.200s: no path; use %s %s", opt, spec, opt, use);
	if (external && strlen(tok) >= 108) /* sizeof(sun_path) */
		return ERR("%s %.200s: the socket path is longer than 107 bytes", opt, spec);
	if (!(external ? (s->socket = strdup(tok)) : (s->dir = strdup(tok))))
		return -ENOMEM;
	while ((f = next_field(&p, tok, sizeof(tok))) == 0) {
		if (!external && !strcmp(tok, "ro")) {
			s->ro = true;
		} else if (!external && !strcmp(tok, "rw")) {
			s->ro = false;
		} else if (!strncmp(tok, "tag=", 4)) {
			size_t n = strlen(tok + 4);
			if (n == 0 || n > CONFIG_SHARE_TAG_MAX) {
				ret = ERR("%s %.200s: tag '%.100s' must be 1 to %d bytes (the guest "
					  "mounts it: mount -t virtiofs TAG /mnt)", opt, spec, tok + 4,
					  CONFIG_SHARE_TAG_MAX);
				goto out;
			}
			memcpy(s->tag, tok + 4, n + 1);
		} else {
			ret = ERR("%s %.200s: unknown option '%.100s'; use %s (write ,, for a comma "
				  "in the path)%s", opt, spec, tok, use,
				  external && !strcmp(tok, "ro") ? "; a read-only share is the "
				  "daemon's choice: start it with a read-only directory" : "");
			goto out;
		}
	}
	if (f < 0)
		ret = ERR("%s %.200s: an option is too long", opt, spec);
out:
	if (ret) {
		free(s->dir);
		free(s->socket);
		s->dir = s->socket = NULL;
	}
	return ret;
}
