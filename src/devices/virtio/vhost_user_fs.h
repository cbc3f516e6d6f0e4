/* virtio-fs (device id 26, PCI 1af4:105a) served by virtiofsd over
 * vhost-user: the generic vhost_user_dev with two queues (hiprio + one
 * request queue; QEMU 7.2's virtiofsd serves only one) and a config space
 * the front end owns (tag[36], le32 num_request_queues). Either myvmm
 * starts virtiofsd for a host directory (--share) or the user did
 * (--vhost-user-fs SOCKET). */
#ifndef MYVMM_VHOST_USER_FS_H
#define MYVMM_VHOST_USER_FS_H
#include <stdbool.h>
#include <stddef.h>

#include "devices/virtio/virtio.h"

#define VIRTIO_ID_FS 26
#define VIRTIO_FS_TAG_LEN 36
#define VIRTIO_FS_CONFIG_SIZE 40
#define VIRTIO_FS_QUEUE_MAX 1024  /* libvhost-user's VIRTQUEUE_MAX_SIZE */

struct evloop;

struct vhost_user_fs_params {
	const char *dir;      /* --share HOSTDIR: start virtiofsd for it */
	const char *socket;   /* --vhost-user-fs SOCKET: the user's daemon (dir NULL) */
	const char *tag;      /* 1..36 bytes */
	bool ro;              /* with dir */
};

/* Pure: the config space for tag (NUL-padded, no terminator at 36 bytes),
 * num_request_queues 1. -EINVAL for an empty or too long tag. */
int vhost_user_fs_config(const char *tag, unsigned char cfg[VIRTIO_FS_CONFIG_SIZE]);
/* Starts virtiofsd when p->dir, connects, negotiates. 0 or -errno with one
 * line in err (the caller adds which option it was). */
int vhost_user_fs_create(const struct vhost_user_fs_params *p, struct evloop *loop,
			 struct virtio_dev **out, char *err, size_t errlen);
#endif
