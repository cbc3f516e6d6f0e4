/* virtio-fs through vhost-user (see vhost_user_fs.h). */
#include "devices/virtio/vhost_user_fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/virtio/vhost_user_dev.h"
#include "host/virtiofsd.h"

int vhost_user_fs_config(const char *tag, unsigned char cfg[VIRTIO_FS_CONFIG_SIZE])
{
	size_t n = tag ? strlen(tag) : 0;

	if (n == 0 || n > VIRTIO_FS_TAG_LEN)
		return -EINVAL;
	memset(cfg, 0, VIRTIO_FS_CONFIG_SIZE);
	memcpy(cfg, tag, n);
	cfg[VIRTIO_FS_TAG_LEN] = 1;   /* le32 num_request_queues */
	return 0;
}

int vhost_user_fs_create(const struct vhost_user_fs_params *p, struct evloop *loop,
			 struct virtio_dev **out, char *err, size_t errlen)
{
	unsigned char cfg[VIRTIO_FS_CONFIG_SIZE];
	struct vhost_user_dev_params vp = {
		.name = "vhost-user-fs", .device_id = VIRTIO_ID_FS, .feature_mask = 0,
		.config_size = VIRTIO_FS_CONFIG_SIZE, .queue_max = VIRTIO_FS_QUEUE_MAX,
		.num_queues = 2, .config = cfg, .daemon_name = DAEMON_VIRTIOFSD,
	};
	char what[300], msg[512] = "";
	struct daemon *d = NULL;
	struct stat st;
	int r;

	if (vhost_user_fs_config(p->tag, cfg)) {
		snprintf(err, errlen, "tag '%.60s' must be 1 to %d bytes", p->tag ? p->tag : "",
			 VIRTIO_FS_TAG_LEN);
		return -EINVAL;
	}
	if (p->dir) {
		snprintf(what, sizeof(what), "--share %.280s", p->dir);
		if (stat(p->dir, &st) != 0) {
			r = -errno;
			snprintf(err, errlen, "%s; give an existing directory to share", strerror(-r));
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "not a directory; give an existing directory to share");
			return -ENOTDIR;
		}
		if (!(d = calloc(1, sizeof(*d)))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((r = daemon_start_virtiofsd(d, p->dir, p->ro, err, errlen))) {
			free(d);
			return r;
		}
		vp.socket = d->sock;
		vp.daemon = d;
	} else {
		snprintf(what, sizeof(what), "--vhost-user-fs %.270s", p->socket);
		vp.socket = p->socket;
	}
	vp.what = what;
	if ((r = vhost_user_dev_create(&vp, loop, out, msg, sizeof(msg)))) {
		char why[400] = "";
		if (d) {
			/* A daemon that died after accepting (its sandbox failed) says why. */
			virtiofsd_exit_reason(d, 1000, why, sizeof(why));
			daemon_stop(d);
			free(d);
		}
		if (why[0])
			snprintf(err, errlen, "%s exited: %s", DAEMON_VIRTIOFSD, why);
		else
			snprintf(err, errlen, "%s", msg[0] ? msg : strerror(-r));
	}
	return r;
}
