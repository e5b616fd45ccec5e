// SPDX-License-Identifier: GPL-2.0
/*
 * shmsync: synchronisation between guests booted on one pack (run.sh
 * --guests N), through the pack's sync area: 16 KiB of shared memory after the
 * images (SYNC_OFF in /pack.env), mapped from /dev/mem. Word i (u32, one
 * 64-byte line each) below 64 is guest i's barrier count; words 64.. are
 * flags for scenarios and the host (test/qemu/README.md "Several guests").
 *
 *   shmsync PHYS ID GUESTS barrier
 *       add 1 to this guest's count, then wait until every guest's count has
 *       reached it (each guest writes only its own word, so no RMW is shared).
 *   shmsync PHYS ID GUESTS commit MNT
 *       barrier, then at once mount(2) MS_REMOUNT "commit" on MNT; prints
 *       "won NS" or "lost ERRNO NS" (NS: the remount's own latency).
 *   shmsync PHYS ID GUESTS set WORD VALUE | get WORD | wait WORD VALUE
 *       flag words (WORD >= 64): store, print, wait until equal.
 * Waits give up after 300 s (exit 3), so a guest whose peer died cannot hang.
 * Guest helper of the DAXFS QEMU bench.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define SYNC_BYTES 16384	/* 256 words */
#define WORD_STRIDE 16	/* u32 words: one 64-byte line each */
#define FLAG_BASE 64
#define WAIT_LIMIT_NS (300ull * 1000000000ull)

static volatile uint32_t *area;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint32_t *word(unsigned int i)
{
	return area + (size_t)i * WORD_STRIDE;
}

static uint32_t load(unsigned int i)
{
	return __atomic_load_n(word(i), __ATOMIC_ACQUIRE);
}

static void store(unsigned int i, uint32_t v)
{
	__atomic_store_n(word(i), v, __ATOMIC_RELEASE);
}

static int barrier(unsigned int id, unsigned int guests)
{
	uint32_t mine = load(id) + 1;
	uint64_t start = now_ns();
	unsigned int g, spins = 0;

	store(id, mine);
	for (g = 0; g < guests; g++) {
		while ((int32_t)(load(g) - mine) < 0) {
			if (now_ns() - start > WAIT_LIMIT_NS) {
				fprintf(stderr, "shmsync: barrier %u: guest %u never arrived\n", mine, g);
				return 3;
			}
			/*
			 * Spin briefly (the release is what "the same instant" rests
			 * on), then poll: both guests' vCPUs share the host's cores,
			 * and a spinning waiter would slow the guest it waits for.
			 */
			if (++spins < 20000)
				__builtin_ia32_pause();
			else
				usleep(50);
		}
	}
	return 0;
}

static unsigned long number(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end) {
		fprintf(stderr, "shmsync: %s '%s' is not a number\n", what, s);
		exit(2);
	}
	return v;
}

static unsigned int flag(const char *s)
{
	unsigned long w = number(s, "WORD");

	if (w < FLAG_BASE || w >= SYNC_BYTES / 4 / WORD_STRIDE) {
		fprintf(stderr, "shmsync: flag word %lu outside %u..%u\n", w, FLAG_BASE,
			SYNC_BYTES / 4 / WORD_STRIDE - 1);
		exit(2);
	}
	return (unsigned int)w;
}

int main(int argc, char **argv)
{
	unsigned long phys, id, guests;
	int fd;
	void *map;

	if (argc < 5) {
		fprintf(stderr, "usage: shmsync PHYS ID GUESTS barrier|commit MNT|set W V|get W|wait W V\n");
		return 2;
	}
	phys = number(argv[1], "PHYS");
	id = number(argv[2], "ID");
	guests = number(argv[3], "GUESTS");
	if (guests < 1 || guests > FLAG_BASE || id >= guests) {
		fprintf(stderr, "shmsync: guest %lu of %lu is out of range\n", id, guests);
		return 2;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		perror("shmsync: /dev/mem");
		return 1;
	}
	map = mmap(NULL, SYNC_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)phys);
	if (map == MAP_FAILED) {
		perror("shmsync: mmap /dev/mem");
		return 1;
	}
	area = map;

	if (!strcmp(argv[4], "barrier") && argc == 5)
		return barrier(id, guests);
	if (!strcmp(argv[4], "commit") && argc == 6) {
		uint64_t t0, t1;
		int rc = barrier(id, guests), err;

		if (rc)
			return rc;
		t0 = now_ns();
		rc = mount("none", argv[5], NULL, MS_REMOUNT, "commit");
		err = errno;
		t1 = now_ns();
		if (rc == 0)
			printf("won %llu\n", (unsigned long long)(t1 - t0));
		else
			printf("lost %s %llu\n", strerror(err), (unsigned long long)(t1 - t0));
		return 0;
	}
	if (!strcmp(argv[4], "set") && argc == 7) {
		store(flag(argv[5]), (uint32_t)number(argv[6], "VALUE"));
		return 0;
	}
	if (!strcmp(argv[4], "get") && argc == 6) {
		printf("%u\n", load(flag(argv[5])));
		return 0;
	}
	if (!strcmp(argv[4], "wait") && argc == 7) {
		unsigned int w = flag(argv[5]);
		uint32_t want = (uint32_t)number(argv[6], "VALUE");
		uint64_t start = now_ns();

		while (load(w) != want) {
			if (now_ns() - start > WAIT_LIMIT_NS) {
				fprintf(stderr, "shmsync: word %u never became %u\n", w, want);
				return 3;
			}
			usleep(1000);
		}
		return 0;
	}
	fprintf(stderr, "shmsync: unknown command '%s' or wrong argument count\n", argv[4]);
	return 2;
}
