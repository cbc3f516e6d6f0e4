/* Shared folders: virtiofsd's argument vector (host/virtiofsd.c, pure part),
 * the virtio-fs config space, and --share/--vhost-user-fs parsing. */
#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "cli/config.h"
#include "devices/virtio/vhost_user_fs.h"
#include "host/virtiofsd.h"

static char buf[DAEMON_ARGV_MAX][DAEMON_ARG_LEN];
static char *argv[DAEMON_ARGV_MAX + 1];

START_TEST(argv_plain)
{
	struct virtiofsd_params p = { .prog = "/usr/lib/qemu/virtiofsd", .dir = "/srv/share",
				      .sock = "/tmp/d/vhost.sock" };
	ck_assert_int_eq(virtiofsd_build_argv(&p, buf, argv), 4);
	ck_assert_str_eq(argv[0], "/usr/lib/qemu/virtiofsd");
	ck_assert_str_eq(argv[1], "--socket-path=/tmp/d/vhost.sock");
	ck_assert_str_eq(argv[2], "-o");
	ck_assert_str_eq(argv[3], "source=/srv/share");
	ck_assert_ptr_null(argv[4]);
}
END_TEST

START_TEST(argv_escapes_and_chroot)
{
	struct virtiofsd_params p = { .prog = "virtiofsd", .dir = "/a,sandbox=none\\b",
				      .sock = "/s", .chroot_sandbox = true };
	ck_assert_int_eq(virtiofsd_build_argv(&p, buf, argv), 6);
	/* A comma cannot smuggle in an option: FUSE's parser sees "\," */
	ck_assert_str_eq(argv[3], "source=/a\\,sandbox=none\\\\b");
	ck_assert_str_eq(argv[4], "-o");
	ck_assert_str_eq(argv[5], "sandbox=chroot");
	ck_assert_ptr_null(argv[6]);
}
END_TEST

START_TEST(argv_too_long)
{
	static char longp[DAEMON_ARG_LEN];
	memset(longp, ',', sizeof(longp) - 1);   /* doubles when escaped */
	struct virtiofsd_params p = { .prog = "virtiofsd", .dir = longp + DAEMON_ARG_LEN / 2,
				      .sock = "/s" };
	ck_assert_int_eq(virtiofsd_build_argv(&p, buf, argv), -ENAMETOOLONG);
}
END_TEST

START_TEST(config_space)
{
	unsigned char cfg[VIRTIO_FS_CONFIG_SIZE];
	char tag36[37];

	ck_assert_int_eq(vhost_user_fs_config("share", cfg), 0);
	ck_assert_int_eq(memcmp(cfg, "share", 5), 0);
	for (int i = 5; i < 36; i++)
		ck_assert_int_eq(cfg[i], 0);
	ck_assert_int_eq(cfg[36] | cfg[37] << 8 | cfg[38] << 16 | cfg[39] << 24, 1);
	memset(tag36, 'x', 36);
	tag36[36] = 0;
	ck_assert_int_eq(vhost_user_fs_config(tag36, cfg), 0);   /* no terminator at 36 */
	ck_assert_int_eq(memcmp(cfg, tag36, 36), 0);
	ck_assert_int_eq(cfg[36], 1);
	ck_assert_int_eq(vhost_user_fs_config("", cfg), -EINVAL);
	ck_assert_int_eq(vhost_user_fs_config(NULL, cfg), -EINVAL);
	tag36[35] = 'y';
	char tag37[38];
	memcpy(tag37, tag36, 36);
	tag37[36] = 'z';
	tag37[37] = 0;
	ck_assert_int_eq(vhost_user_fs_config(tag37, cfg), -EINVAL);
}
END_TEST

START_TEST(parse_shares)
{
	struct share_config s;
	char err[CONFIG_ERR_LEN];

	ck_assert_int_eq(parse_share("/srv", false, &s, err), 0);
	ck_assert_str_eq(s.dir, "/srv");
	ck_assert_ptr_null(s.socket);
	ck_assert_str_eq(s.tag, "share");
	ck_assert(!s.ro);
	free(s.dir);
	ck_assert_int_eq(parse_share("/a,,b,tag=data,ro", false, &s, err), 0);
	ck_assert_str_eq(s.dir, "/a,b");
	ck_assert_str_eq(s.tag, "data");
	ck_assert(s.ro);
	free(s.dir);
	ck_assert_int_eq(parse_share("/run/fs.sock,tag=ext", true, &s, err), 0);
	ck_assert_str_eq(s.socket, "/run/fs.sock");
	ck_assert_ptr_null(s.dir);
	ck_assert_str_eq(s.tag, "ext");
	free(s.socket);
	ck_assert_int_eq(parse_share("/s,ro", true, &s, err), -EINVAL);
	ck_assert(strstr(err, "unknown option 'ro'"));
	ck_assert_int_eq(parse_share("/d,tag=0123456789012345678901234567890123456", false, &s, err),
			 -EINVAL);
	ck_assert(strstr(err, "1 to 36 bytes"));
	ck_assert_int_eq(parse_share("/d,tag=", false, &s, err), -EINVAL);
	ck_assert_int_eq(parse_share("", false, &s, err), -EINVAL);
	ck_assert_int_eq(parse_share("/d,bogus", false, &s, err), -EINVAL);
	ck_assert(strstr(err, "unknown option 'bogus'"));
}
END_TEST

START_TEST(options_tags_unique)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];

	config_init(&c);
	ck_assert_int_eq(config_set(&c, "share", "/a", err), 0);
	ck_assert_int_eq(config_set(&c, "share", "/b,tag=b", err), 0);
	ck_assert_int_eq(config_set(&c, "vhost-user-fs", "/s.sock", err), -EINVAL);
	ck_assert(strstr(err, "tag 'share' is already used"));
	ck_assert_int_eq(config_set(&c, "vhost-user-fs", "/s.sock,tag=c", err), 0);
	ck_assert_int_eq(config_set(&c, "share", "/d,tag=d", err), 0);
	ck_assert_uint_eq(c.nshares, 4);
	ck_assert_int_eq(config_set(&c, "share", "/e,tag=e", err), -EINVAL);
	ck_assert(strstr(err, "at most 4"));
	ck_assert_str_eq(c.shares[2].socket, "/s.sock");
	config_free(&c);
	ck_assert_uint_eq(c.nshares, 0);
}
END_TEST

CHECK_MAIN("virtiofs", argv_plain, argv_escapes_and_chroot, argv_too_long, config_space,
	   parse_shares, options_tags_unique)
