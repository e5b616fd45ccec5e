// SPDX-License-Identifier: GPL-2.0
/*
 * readbench FILE SECONDS: sequential read throughput (1 MiB read() calls,
 * repeated passes) and random read rate (4 KiB pread() at random aligned
 * offsets) of FILE, each for about SECONDS. Prints
 * "SEQ <MiB/s>" and "RAND <reads/s>". Guest helper of bench/kernel-read.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	double seconds, start, elapsed;
	unsigned long long bytes = 0, reads = 0, x = 88172645463325252ULL;
	unsigned long long pages;
	struct stat st;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: readbench FILE SECONDS\n");
		return 2;
	}
	seconds = atof(argv[2]);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size < 4096) {
		perror(argv[1]);
		return 1;
	}
	pages = st.st_size / 4096;
	start = now();
	do {
		ssize_t n;

		lseek(fd, 0, SEEK_SET);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			bytes += n;
		if (n < 0) {
			perror("read");
			return 1;
		}
		elapsed = now() - start;
	} while (elapsed < seconds);
	printf("SEQ %.1f\n", bytes / elapsed / (1 << 20));

	start = now();
	do {
		int i;

		for (i = 0; i < 256; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(fd, buf, 4096, (x % pages) * 4096) != 4096) {
				perror("pread");
				return 1;
			}
		}
		reads += 256;
		elapsed = now() - start;
	} while (elapsed < seconds);
	printf("RAND %.0f\n", reads / elapsed);
	return 0;
}
