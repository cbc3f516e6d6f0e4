/* Type- and size-checked opens and whole-file reads; the disk-image open
 * (checks + OFD lock) shared by virtio-blk and IDE. */
#include "host/file.h"
#include "host/disk_format.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *kind_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

int file_open(const char *what, const char *path, int flags, unsigned kinds, struct stat *st,
	      struct err *err)
{
	/* O_NONBLOCK: opening a FIFO without a writer returns at once instead
	 * of waiting for one; the type check below then refuses it. */
	int fd, r;

	memset(st, 0, sizeof(*st)); /* st_mode 0: the open itself failed */
	fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (errno == EISDIR)
			err_set(err, "%s %s is a directory; give a file", what, path);
		else
			err_set(err, "%s %s: %s; check the path", what, path, strerror(errno));
		return r;
	}
	if (fstat(fd, st) < 0) {
		r = -errno;
		err_set(err, "%s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		r = -EISDIR;
		err_set(err, "%s %s is a directory; give a file", what, path);
		goto fail;
	}
	if (!((kinds & FILE_REGULAR) && S_ISREG(st->st_mode)) &&
	    !((kinds & FILE_BLOCKDEV) && S_ISBLK(st->st_mode))) {
		r = -EINVAL;
		err_set(err, "%s %s is %s; give a regular file%s", what, path, kind_name(st->st_mode),
			(kinds & FILE_BLOCKDEV) ? " or a block device" : "");
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		r = -errno;
		err_set(err, "%s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int file_read_into(int fd, void *dst, size_t len)
{
	uint8_t *p = dst;

	for (size_t off = 0; off < len;) {
		ssize_t n = pread(fd, p + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank under us */
		off += (size_t)n;
	}
	return 0;
}

int file_read_all(const char *what, const char *path, size_t max, uint8_t **buf, size_t *len,
		  struct err *err)
{
	struct stat st;
	uint8_t *b;
	int fd = file_open(what, path, O_RDONLY, FILE_REGULAR, &st, err), r;

	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		err_set(err, "%s %s: %llu MiB does not fit (at most %llu MiB here)", what, path,
			(unsigned long long)st.st_size >> 20, (unsigned long long)max >> 20);
		r = -EFBIG;
		goto out;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		err_set(err, "%s %s: out of memory for %llu bytes", what, path,
			(unsigned long long)st.st_size);
		r = -ENOMEM;
		goto out;
	}
	r = file_read_into(fd, b, (size_t)st.st_size);
	if (r) {
		err_set(err, "%s %s: read: %s", what, path, strerror(-r));
		free(b);
		goto out;
	}
	*buf = b;
	*len = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

int disk_file_open(const char *path, bool ro, bool direct, int format, struct disk_file *out,
		   struct err *err)
{
	struct flock fl = { .l_whence = SEEK_SET, .l_type = ro ? F_RDLCK : F_WRLCK };
	struct stat st;
	uint64_t size;
	int fd, r;

	out->fd = -1;
	fd = file_open("disk", path, (ro ? O_RDONLY : O_RDWR) | (direct ? O_DIRECT : 0),
		       FILE_REGULAR | FILE_BLOCKDEV, &st, err);
	if (fd < 0) {
		if (fd == -ENOENT)
			err_set(err, "disk %s: %s; check the path (create an image with: truncate -s 1G %s)",
				path, strerror(-fd), path);
		else if (direct && fd == -EINVAL && st.st_mode == 0)
			err_set(err, "disk %s: the file system does not support O_DIRECT; use cache=writeback",
				path);
		else if (!ro && (fd == -EACCES || fd == -EROFS || fd == -EPERM))
			err_set(err, "disk %s: cannot open for writing (%s); fix the permissions or add ,ro",
				path, strerror(-fd));
		return fd;
	}
	if ((r = disk_format_check_raw(fd, path, (enum disk_format)format, err ? err->msg : NULL,
					 err ? sizeof(err->msg) : 0)))
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			r = -errno;
			err_set(err, "disk %s: cannot get the device size: %s", path, strerror(errno));
			goto fail;
		}
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size == 0 || size % 512) {
		err_set(err, "disk %s: size %llu is not a non-zero multiple of 512 bytes; resize it, "
			"e.g. truncate -s %lluK %s", path, (unsigned long long)size,
			(unsigned long long)(size + 1023) / 1024 ?: 1, path);
		r = -EINVAL;
		goto fail;
	}
	/* OFD locks belong to this open file, so two disks in one VMM and two
	 * VMMs both conflict; they vanish when the fd is closed. */
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		r = -errno;
		if (errno == EAGAIN || errno == EACCES)
			err_set(err, "disk %s is in use by another VM (locked); stop that VM or use a "
				"copy of the image%s", path, ro ? "" : " (or open both read-only with ,ro)");
		else
			err_set(err, "disk %s: cannot lock the image: %s", path, strerror(errno));
		goto fail;
	}
	out->fd = fd;
	out->size = size;
	out->blockdev = S_ISBLK(st.st_mode);
	return 0;
fail:
	close(fd);
	return r;
}

void disk_file_close(struct disk_file *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
