// SPDX-License-Identifier: GPL-2.0
/*
 * fsops: system calls busybox has no applet for, each printing "OK" or the
 * errno's name, so a scenario can check the exact error. Guest helper of
 * the DAXFS QEMU bench.
 *   fsops rename2 FROM TO [noreplace|exchange]   renameat2(2)
 *   fsops setxattr PATH                          setxattr(2) of user.test
 *   fsops unlinked-rw PATH                       open, unlink, write and read back through the fd
 *   fsops append-from-map SRC DST                append SRC's bytes to DST with one write(2)
 *                                                from a fresh MAP_SHARED mapping of SRC (its
 *                                                pages fault in during the copy; DST may be SRC)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EROFS: return "EROFS";
	case ESTALE: return "ESTALE";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	default: return strerror(e);
	}
}

static int report(long rc)
{
	if (rc < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int unlinked_rw(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0 || write(fd, "before", 6) != 6 || unlink(path) < 0 ||
	    pwrite(fd, "after", 5, 6) != 5)
		return report(-1);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return report(-1);
	printf("READ %s\n", buf);
	return close(fd) < 0;
}

static int append_from_map(const char *src, const char *dst)
{
	struct stat st;
	int in = open(src, O_RDONLY), out;
	void *map;

	if (in < 0 || fstat(in, &st) < 0 || !st.st_size)
		return report(-1);
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, in, 0);
	out = open(dst, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (map == MAP_FAILED || out < 0)
		return report(-1);
	errno = 0;
	if (write(out, map, st.st_size) != st.st_size) {
		if (errno == 0)
			errno = EIO;	/* short */
		return report(-1);
	}
	return report(close(out));
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "rename2")) {
		unsigned int flags = 0;

		if (argc > 4)
			flags = !strcmp(argv[4], "noreplace") ? RENAME_NOREPLACE : RENAME_EXCHANGE;
		return report(syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags));
	}
	if (argc == 3 && !strcmp(argv[1], "setxattr"))
		return report(setxattr(argv[2], "user.test", "v", 1, 0));
	if (argc == 3 && !strcmp(argv[1], "unlinked-rw"))
		return unlinked_rw(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "append-from-map"))
		return append_from_map(argv[2], argv[3]);
	fprintf(stderr, "usage: fsops rename2 FROM TO [noreplace|exchange] | setxattr PATH | "
		"unlinked-rw PATH | append-from-map SRC DST\n");
	return 2;
}
