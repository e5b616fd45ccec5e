// SPDX-License-Identifier: GPL-2.0
/*
 * opbench DIR SRC FILES: the system calls busybox tar makes to extract FILES
 * files (1-21 KB, 40 directories) into DIR, then the calls of reading them
 * back, each kind timed apart. SRC is a file of at least 21 KB on another
 * file system (tmpfs), the bytes the files get (tar's archive). Prints one line per kind:
 * "OP <name> <calls> <total us>". Guest helper of bench/kernel-branch: the
 * untar and read phases there are sums of these calls, so comparing the
 * lines of a daxfs branch with those of tmpfs says which call costs more.
 *
 * Extraction as Debian's busybox tar does it (strace): unlink (ENOENT),
 * open(O_CREAT|O_EXCL|O_WRONLY), one sendfile() of the whole file from the
 * archive (on EINVAL, a file system without splice_write, one read() and
 * one write() of it: busybox's 64 KiB copy buffer), close, then chown,
 * chmod and utimensat by path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { MKDIR, UNLINK, CREAT, WRITE, CLOSE, CHOWN, CHMOD, UTIMES, STAT, OPEN, SENDFILE, CLOSE_R, NR };

static const char *const names[NR] = {
	"mkdir", "unlink", "creat", "copy_in", "close", "chown", "chmod", "utimes",
	"stat", "open", "sendfile", "close_r",
};
static double total[NR];
static unsigned long calls[NR];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Time one call of kind k; exit on failure (the bench must not go on wrong). */
#define TIMED(k, call)						\
	({							\
		double t0_ = now_us();				\
		long r_ = (long)(call);				\
		total[k] += now_us() - t0_;			\
		calls[k]++;					\
		if (r_ < 0) {					\
			perror(names[k]);			\
			exit(1);				\
		}						\
		r_;						\
	})

int main(int argc, char **argv)
{
	static char buf[64 << 10];
	struct timeval times[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
	char path[4096];
	int files, i, k, out, src;

	if (argc != 4) {
		fprintf(stderr, "usage: opbench DIR SRC FILES\n");
		return 2;
	}
	files = atoi(argv[3]);
	src = open(argv[2], O_RDONLY);
	if (src < 0) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i < 40 && i < files; i++) {
		snprintf(path, sizeof(path), "%s/d%d", argv[1], i);
		TIMED(MKDIR, mkdir(path, 0755));
	}
	for (i = 0; i < files; i++) {
		int size = 1000 + (i * 37) % 20000, fd;
		off_t at = 0;

		snprintf(path, sizeof(path), "%s/d%d/f%d", argv[1], i % 40, i);
		TIMED(UNLINK, (unlink(path) < 0 && errno == ENOENT) ? 0 : -1);
		fd = TIMED(CREAT, open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
		while (size > 0) {
			double t0 = now_us();
			ssize_t n = sendfile(fd, src, &at, size);

			if (n < 0 && errno == EINVAL) {
				n = pread(src, buf, size, at);
				if (n > 0)
					n = write(fd, buf, n);
				at += n > 0 ? n : 0;
			}
			total[WRITE] += now_us() - t0;
			calls[WRITE]++;
			if (n <= 0) {
				perror(names[WRITE]);
				return 1;
			}
			size -= n;
		}
		TIMED(CLOSE, close(fd));
		TIMED(CHOWN, chown(path, 0, 0));
		TIMED(CHMOD, chmod(path, 0644));
		TIMED(UTIMES, utimes(path, times));
	}
	out = open("/dev/null", O_WRONLY);
	for (i = 0; i < files; i++) {
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/d%d/f%d", argv[1], i % 40, i);
		TIMED(STAT, stat(path, &st));
		fd = TIMED(OPEN, open(path, O_RDONLY));
		while (TIMED(SENDFILE, sendfile(out, fd, NULL, 1 << 20)) > 0)
			;
		TIMED(CLOSE_R, close(fd));
	}
	for (k = 0; k < NR; k++)
		printf("OP %s %lu %.0f\n", names[k], calls[k], total[k]);
	return 0;
}
