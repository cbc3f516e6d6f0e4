/* Guest RAM in a file (--mem-path, --hugepages): the page arithmetic, the
 * shortage line, and the file cases that need no huge pages (a plain file:
 * grown, allocated, locked; a missing path; a directory that is not
 * hugetlbfs; a device). Huge pages themselves: boot.mem_path_*. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "machine/pc_map.h"
#include "mem/guest_mem.h"
#include "mem/mem_backing.h"

START_TEST(fmt_size)
{
	char b[32];
	gmem_fmt_size(2 * MiB, b, sizeof(b));
	ck_assert_str_eq(b, "2 MiB");
	gmem_fmt_size(1 * GiB, b, sizeof(b));
	ck_assert_str_eq(b, "1 GiB");
	gmem_fmt_size(513 * MiB, b, sizeof(b));
	ck_assert_str_eq(b, "513 MiB");
	gmem_fmt_size(3 * GiB + 512 * 1024, b, sizeof(b));
	ck_assert_str_eq(b, "3146240 KiB");
	gmem_fmt_size(4097, b, sizeof(b));
	ck_assert_str_eq(b, "4097 B");
	gmem_fmt_size(0, b, sizeof(b));
	ck_assert_str_eq(b, "0 B");
}
END_TEST

START_TEST(pages_and_rounding)
{
	uint64_t n = 7;
	ck_assert_int_eq(gmem_pages_for(512 * MiB, 2 * MiB, &n), 0);
	ck_assert_uint_eq(n, 256);
	ck_assert_int_eq(gmem_pages_for(4 * GiB, 1 * GiB, &n), 0);
	ck_assert_uint_eq(n, 4);
	n = 7;
	ck_assert_int_eq(gmem_pages_for(513 * MiB, 2 * MiB, &n), -EINVAL);
	ck_assert_int_eq(gmem_pages_for(3 * GiB + 2 * MiB, 1 * GiB, &n), -EINVAL);
	ck_assert_int_eq(gmem_pages_for(64 * MiB, 3 * MiB, &n), -EINVAL);   /* not a power of 2 */
	ck_assert_int_eq(gmem_pages_for(64 * MiB, 2048, &n), -EINVAL);      /* below 4 KiB */
	ck_assert_int_eq(gmem_pages_for(64 * MiB, 0, &n), -EINVAL);
	ck_assert_uint_eq(n, 7);                                            /* untouched */
	ck_assert_uint_eq(gmem_round_up(513 * MiB, 2 * MiB), 514 * MiB);
	ck_assert_uint_eq(gmem_round_up(514 * MiB, 2 * MiB), 514 * MiB);
	ck_assert_uint_eq(gmem_round_up(1 * MiB, 1 * GiB), 1 * GiB);
	ck_assert_uint_eq(gmem_round_up(3 * GiB + 1, 1 * GiB), 4 * GiB);
}
END_TEST

START_TEST(pool_available)
{
	struct gmem_huge_pool p = { .nr = 100, .free = 40, .resv = 10 };
	ck_assert_uint_eq(gmem_pool_available(&p), 30);
	p.resv = 50; /* more reserved than free (racy counters): none, no wrap */
	ck_assert_uint_eq(gmem_pool_available(&p), 0);
	p = (struct gmem_huge_pool){ .nr = 10, .free = 10, .overcommit = 20, .surplus = 5 };
	ck_assert_uint_eq(gmem_pool_available(&p), 25);
	p.surplus = 30;
	ck_assert_uint_eq(gmem_pool_available(&p), 10);
}
END_TEST

START_TEST(shortage_line)
{
	char b[512] = "";
	struct gmem_huge_pool p = { .nr = 10, .free = 10 };

	ck_assert_int_eq(gmem_huge_shortage("--mem-path /dev/hugepages", 512 * MiB, 2 * MiB, &p,
					    true, b, sizeof(b)), 1);
	ck_assert_str_eq(b, "--mem-path /dev/hugepages: 512 MiB needs 256 huge pages of 2 MiB, "
			    "10 free: raise vm.nr_hugepages (sysctl -w vm.nr_hugepages=256)");
	/* Pages already held by others count: nr goes up by what is missing. */
	p = (struct gmem_huge_pool){ .nr = 300, .free = 100, .resv = 20 };
	ck_assert_int_eq(gmem_huge_shortage("--hugepages", 512 * MiB, 2 * MiB, &p, true, b,
					    sizeof(b)), 1);
	ck_assert_str_eq(b, "--hugepages: 512 MiB needs 256 huge pages of 2 MiB, 80 free: raise "
			    "vm.nr_hugepages (sysctl -w vm.nr_hugepages=476)");
	/* A pool of another size is set through sysfs. */
	p = (struct gmem_huge_pool){ 0 };
	ck_assert_int_eq(gmem_huge_shortage("--mem-path /mnt/huge1g", 4 * GiB, 1 * GiB, &p, false,
					    b, sizeof(b)), 1);
	ck_assert_str_eq(b, "--mem-path /mnt/huge1g: 4 GiB needs 4 huge pages of 1 GiB, 0 free: "
			    "raise vm.nr_hugepages (echo 4 > "
			    "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)");
	/* Enough, exactly enough, or through overcommit: no line. */
	b[0] = 0;
	p = (struct gmem_huge_pool){ .nr = 256, .free = 256 };
	ck_assert_int_eq(gmem_huge_shortage("x", 512 * MiB, 2 * MiB, &p, true, b, sizeof(b)), 0);
	p = (struct gmem_huge_pool){ .nr = 0, .overcommit = 1000 };
	ck_assert_int_eq(gmem_huge_shortage("x", 512 * MiB, 2 * MiB, &p, true, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "");
}
END_TEST

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/myvmm-utXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(plain_file)
{
	char path[128], err[GMEM_BACKING_ERR_LEN] = "";
	struct gmem_backing b, b2;
	struct guest_mem m;
	struct stat st;

	mkdir_tmp();
	snprintf(path, sizeof(path), "%s/ram", dir);
	int fd = open(path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "boot", 4, 0x2000), 4);
	close(fd);

	ck_assert_int_eq(gmem_backing_open(path, false, 64 * MiB, &b, err), 0);
	ck_assert_int_ge(b.fd, 0);
	ck_assert_uint_eq(b.page_size, 4096);
	ck_assert(!b.hugetlb);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 64 * MiB);           /* grown to --mem */
	ck_assert_uint_ge((uint64_t)st.st_blocks * 512, 64 * MiB);   /* and allocated */

	/* A second VM on the same file: one line, the lock holder named. */
	ck_assert_int_eq(gmem_backing_open(path, false, 64 * MiB, &b2, err), -EWOULDBLOCK);
	ck_assert_int_eq(b2.fd, -1);
	ck_assert_ptr_nonnull(strstr(err, "in use by another VM"));

	/* Mapped as guest RAM: the file's bytes are the guest's, both ways. */
	ck_assert_int_eq(gmem_alloc_fd(&m, 64 * MiB, b.fd, b.page_size, b.hugetlb), 0);
	ck_assert_str_eq(gmem_backing_name(&m), "file");
	char buf[4];
	ck_assert_int_eq(gmem_read(&m, 0x2000, buf, 4), 0);
	ck_assert_mem_eq(buf, "boot", 4);
	ck_assert_int_eq(gmem_write(&m, 0x3000, "RAM!", 4), 0);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 4, 0x3000), 4);
	ck_assert_mem_eq(buf, "RAM!", 4);
	close(fd);
	gmem_free(&m);                                                /* closes b.fd */

	/* The lock went with it; a larger file is not shrunk. */
	ck_assert_int_eq(gmem_backing_open(path, false, 32 * MiB, &b, err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 64 * MiB);
	gmem_backing_close(&b);
	ck_assert_int_eq(b.fd, -1);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(bad_paths)
{
	char path[128], err[GMEM_BACKING_ERR_LEN];
	struct gmem_backing b;

	mkdir_tmp();
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(gmem_backing_open(path, false, 64 * MiB, &b, err), -ENOENT);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory; give a hugetlbfs mount"));
	ck_assert_ptr_null(strchr(err, '\n'));
	/* /tmp is not hugetlbfs (tmpfs or the root filesystem here). */
	ck_assert_int_eq(gmem_backing_open(dir, false, 64 * MiB, &b, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a hugetlbfs mount"));
	ck_assert_int_eq(gmem_backing_open("/dev/null", false, 64 * MiB, &b, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/dev/null: not a directory or a regular file"));
	rmdir(dir);
}
END_TEST

START_TEST(alloc_fd_rejects)
{
	struct guest_mem m;
	int fd = memfd_create("t", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	/* A RAM size that is not a multiple of the page size; the fd is closed. */
	ck_assert_int_eq(gmem_alloc_fd(&m, 65 * MiB, fd, 2 * MiB, true), -EINVAL);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(m.nr, 0);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_eq(gmem_alloc_fd(&m, 64 * MiB, -1, 4096, false), -EINVAL);
	/* Two regions above 3 GiB: offsets follow the plan (a sparse memfd). */
	fd = memfd_create("t", MFD_CLOEXEC);
	ck_assert_int_eq(ftruncate(fd, (off_t)(4 * GiB)), 0);
	ck_assert_int_eq(gmem_alloc_fd(&m, 4 * GiB, fd, 4096, false), 0);
	ck_assert_int_eq(m.nr, 2);
	ck_assert_uint_eq(m.fd_offset[1], LAYOUT_MMIO_HOLE_START);
	ck_assert_int_eq(gmem_write(&m, LAYOUT_HIGH_RAM_START, "hi", 2), 0);
	char buf[2];
	ck_assert_int_eq(pread(fd, buf, 2, (off_t)LAYOUT_MMIO_HOLE_START), 2);
	ck_assert_mem_eq(buf, "hi", 2);
	ck_assert_str_eq(gmem_backing_name(&m), "file");
	gmem_free(&m);
}
END_TEST

CHECK_MAIN("mem_backing", fmt_size, pages_and_rounding, pool_available, shortage_line,
	   plain_file, bad_paths, alloc_fd_rejects)
