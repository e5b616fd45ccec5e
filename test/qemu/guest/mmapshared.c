// SPDX-License-Identifier: GPL-2.0
/*
 * mmapshared DIR: the ten mmap cases of SPEC 6.2 (the public test_mmap.c's
 * assertions) in a writable branch mount, each printing "OK n name" or
 * "FAIL n name: why". Every case creates DIR/mmap_test_file with
 * O_CREAT|O_TRUNC and removes it on success.
 * mmapshared --poke FILE OFFSET TEXT: writes TEXT at OFFSET through a shared
 * mapping of the existing FILE, then unmaps and closes without msync.
 * mmapshared --sigbus FILE: maps FILE shared, reads it, waits (up to 120 s)
 * until stat(FILE) fails with ESTALE, then reads the mapping again and
 * prints "SIGBUS" when that faults (SPEC 3.10), "NO-SIGBUS" otherwise.
 * Guest helper of the DAXFS QEMU bench.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static char path[4096];
static int failures;

static int fail(int n, const char *name, const char *why)
{
	printf("FAIL %d %s: %s\n", n, name, why);
	failures++;
	return -1;
}

static int pass(int n, const char *name)
{
	printf("OK %d %s\n", n, name);
	unlink(path);
	return 0;
}

static int fresh(void)
{
	return open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
}

static int basic(void)
{
	int fd = fresh();
	char *m;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(1, "basic", "create/ftruncate");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(1, "basic", "mmap");
	memcpy(m, "hello mmap", 10);
	if (memcmp(m, "hello mmap", 10))
		return fail(1, "basic", "mapping does not read back");
	munmap(m, PG);
	close(fd);
	return pass(1, "basic");
}

static int mmap_to_read(void)
{
	int fd = fresh();
	char buf[16] = "", *m;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(2, "mmap-to-read", "create");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(2, "mmap-to-read", "mmap");
	memcpy(m, "via mmap", 8);
	msync(m, PG, MS_SYNC);
	if (pread(fd, buf, 8, 0) != 8 || memcmp(buf, "via mmap", 8))
		return fail(2, "mmap-to-read", "read(2) does not see the mapping's write");
	munmap(m, PG);
	close(fd);
	return pass(2, "mmap-to-read");
}

static int write_to_mmap(void)
{
	int fd = fresh();
	char *m;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(3, "write-to-mmap", "create");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(3, "write-to-mmap", "mmap");
	if (pwrite(fd, "via write", 9, 0) != 9)
		return fail(3, "write-to-mmap", "pwrite");
	if (memcmp(m, "via write", 9))
		return fail(3, "write-to-mmap", "mapping does not see write(2)");
	/* And once the page is mapped, a second write(2) too. */
	if (pwrite(fd, "again", 5, 0) != 5 || memcmp(m, "again", 5))
		return fail(3, "write-to-mmap", "mapped page does not see a later write(2)");
	munmap(m, PG);
	close(fd);
	return pass(3, "write-to-mmap");
}

static int two_maps(void)
{
	int fd = fresh();
	char *a, *b;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(4, "two-maps", "create");
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return fail(4, "two-maps", "mmap");
	strcpy(a, "coherent");
	if (strcmp(b, "coherent"))
		return fail(4, "two-maps", "second mapping does not see the first's write");
	munmap(a, PG);
	munmap(b, PG);
	close(fd);
	return pass(4, "two-maps");
}

static int offset_map(void)
{
	int fd = fresh();
	char buf[8] = "", *m;

	if (fd < 0 || ftruncate(fd, 2 * PG) < 0)
		return fail(5, "offset", "create");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	if (m == MAP_FAILED)
		return fail(5, "offset", "mmap");
	memcpy(m, "page2", 5);
	msync(m, PG, MS_SYNC);
	if (pread(fd, buf, 5, PG) != 5 || memcmp(buf, "page2", 5))
		return fail(5, "offset", "pread at 4096 does not see the write");
	munmap(m, PG);
	close(fd);
	return pass(5, "offset");
}

static int fork_shared(void)
{
	int fd = fresh(), status;
	char *m;
	pid_t pid;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(6, "fork", "create");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(6, "fork", "mmap");
	m[0] = 'P';
	pid = fork();
	if (pid == 0) {
		if (m[0] != 'P')
			_exit(1);
		m[0] = 'C';
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail(6, "fork", "child did not see the parent's write");
	if (m[0] != 'C')
		return fail(6, "fork", "parent does not see the child's write");
	munmap(m, PG);
	close(fd);
	return pass(6, "fork");
}

static int private_cow(void)
{
	int fd = fresh();
	char *s, *p;

	if (fd < 0 || write(fd, "original", 8) != 8)
		return fail(7, "private", "create");
	s = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (s == MAP_FAILED || p == MAP_FAILED)
		return fail(7, "private", "mmap");
	memcpy(p, "modified", 8);
	if (memcmp(s, "original", 8))
		return fail(7, "private", "the shared map sees the private write");
	if (memcmp(p, "modified", 8))
		return fail(7, "private", "the private map lost its write");
	munmap(s, PG);
	munmap(p, PG);
	close(fd);
	return pass(7, "private");
}

static int large(void)
{
	int fd = fresh(), i;
	char *m;

	if (fd < 0 || ftruncate(fd, 16 * PG) < 0)
		return fail(8, "large", "create");
	m = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(8, "large", "mmap");
	for (i = 0; i < 16; i++)
		m[i * PG] = 'A' + i;
	for (i = 0; i < 16; i++)
		if (m[i * PG] != 'A' + i)
			return fail(8, "large", "a marker did not read back");
	munmap(m, 16 * PG);
	close(fd);
	return pass(8, "large");
}

static int readonly(void)
{
	int fd = fresh();
	char *m;

	if (fd < 0 || write(fd, "readonly", 8) != 8 || ftruncate(fd, PG) < 0)
		return fail(9, "readonly", "create");
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(9, "readonly", "mmap");
	if (memcmp(m, "readonly", 8))
		return fail(9, "readonly", "the mapping does not show the data");
	munmap(m, PG);
	close(fd);
	return pass(9, "readonly");
}

static int persist(void)
{
	int fd = fresh();
	char buf[16] = "", *m;

	if (fd < 0 || ftruncate(fd, PG) < 0)
		return fail(10, "persist", "create");
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(10, "persist", "mmap");
	memcpy(m, "persistent", 10);
	msync(m, PG, MS_SYNC);
	munmap(m, PG);
	close(fd);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, 10) != 10 || memcmp(buf, "persistent", 10))
		return fail(10, "persist", "reopened file does not hold the data");
	close(fd);
	return pass(10, "persist");
}

static int poke(const char *file, long offset, const char *text)
{
	int fd = open(file, O_RDWR);
	long base = offset & ~(long)(PG - 1);
	char *m;

	if (fd < 0)
		return fail(11, "poke", "open");
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	if (m == MAP_FAILED)
		return fail(11, "poke", "mmap");
	memcpy(m + (offset - base), text, strlen(text));
	munmap(m, 2 * PG);
	close(fd);
	printf("OK 11 poke\n");
	return 0;
}

static sigjmp_buf bus_jump;

static void on_bus(int sig)
{
	siglongjmp(bus_jump, sig);
}

static int sigbus(const char *file)
{
	volatile char *m;
	struct stat st;
	int fd = open(file, O_RDONLY), i;

	if (fd < 0)
		return fail(12, "sigbus", "open");
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(12, "sigbus", "mmap");
	if (m[0] == 0)
		return fail(12, "sigbus", "mapping reads a zero byte");
	for (i = 0; i < 1200 && stat(file, &st) == 0; i++)
		usleep(100000);
	if (errno != ESTALE)
		return fail(12, "sigbus", "stat never failed with ESTALE");
	signal(SIGBUS, on_bus);
	if (sigsetjmp(bus_jump, 1)) {
		printf("SIGBUS\n");
		return 0;
	}
	printf("NO-SIGBUS %d\n", m[0]);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--sigbus"))
		return sigbus(argv[2]) != 0;
	if (argc == 5 && !strcmp(argv[1], "--poke"))
		return poke(argv[2], atol(argv[3]), argv[4]) != 0;
	if (argc != 2) {
		fprintf(stderr, "usage: mmapshared DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/mmap_test_file", argv[1]);
	basic();
	mmap_to_read();
	write_to_mmap();
	two_maps();
	offset_map();
	fork_shared();
	private_cow();
	large();
	readonly();
	persist();
	return failures != 0;
}
