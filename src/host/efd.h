/* The eventfd idiom used by every wakeup in the program: signal adds one,
 * drain takes the whole count (0 when nothing was pending). The fds are
 * non-blocking; a full counter or an empty one is not an error here. */
#ifndef MYVMM_EFD_H
#define MYVMM_EFD_H
#include <stdint.h>
#include <unistd.h>

static inline int efd_signal(int efd)
{
	uint64_t one = 1;
	return write(efd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static inline uint64_t efd_drain(int efd)
{
	uint64_t v = 0;
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}
#endif
