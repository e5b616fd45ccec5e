// SPDX-License-Identifier: GPL-2.0
/*
 * mmapcheck FILE...: for each file, compares read() with a MAP_SHARED and a
 * MAP_PRIVATE mapping, writes into the private mapping (copy on write) and
 * checks that neither read() nor a fresh mapping sees the write, and checks
 * that touching the page past EOF raises SIGBUS. Prints "OK file" or
 * "FAIL file: reason". Guest helper of the DAXFS QEMU bench.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static sigjmp_buf jump;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(jump, 1);
}

static char *read_all(int fd, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, done);

		if (n <= 0)
			return NULL;
		done += n;
	}
	return buf;
}

static const char *check(const char *path)
{
	int fd = open(path, O_RDONLY);
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	char *data, *shared, *private, *again;
	size_t size, maplen;
	volatile char c;

	if (fd < 0 || fstat(fd, &st))
		return "open";
	size = st.st_size;
	if (!size)
		return NULL;
	data = read_all(fd, size);
	if (!data)
		return "read";
	maplen = (size + page - 1) / page * page + page;	/* one page past EOF */
	shared = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, 0);
	private = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (shared == MAP_FAILED || private == MAP_FAILED)
		return "mmap";
	if (memcmp(shared, data, size))
		return "MAP_SHARED differs from read()";
	if (memcmp(private, data, size))
		return "MAP_PRIVATE differs from read()";
	if (mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) != MAP_FAILED)
		return "writable MAP_SHARED allowed on a read-only mount";
	private[0] ^= 0x5a;
	private[size - 1] ^= 0xa5;
	if (size == 1 ? private[0] != (char)(data[0] ^ 0x5a ^ 0xa5) :
	    (private[0] != (char)(data[0] ^ 0x5a) || private[size - 1] != (char)(data[size - 1] ^ 0xa5)))
		return "private write lost";
	again = read_all(fd, size);
	if (!again || memcmp(again, data, size) || memcmp(shared, data, size))
		return "private write leaked into the file";
	if (sigsetjmp(jump, 1) == 0) {
		c = shared[maplen - page];
		(void)c;
		return "no SIGBUS past EOF";
	}
	munmap(shared, maplen);
	munmap(private, maplen);
	free(data);
	free(again);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	int i, bad = 0;

	sigaction(SIGBUS, &sa, NULL);
	for (i = 1; i < argc; i++) {
		const char *why = check(argv[i]);

		if (why) {
			printf("FAIL %s: %s\n", argv[i], why);
			bad = 1;
		} else {
			printf("OK %s\n", argv[i]);
		}
	}
	return bad;
}
