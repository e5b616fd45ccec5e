// SPDX-License-Identifier: GPL-2.0
/*
 * dirwalk DIR: prints "path|d_type|d_ino" for every entry under DIR (no
 * recursion into symlinks), then checks that every telldir() position
 * seekdir()s back to the same entry; prints "SEEK-MISMATCH path" otherwise.
 * Guest helper of the DAXFS QEMU bench.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 100000

static char *queue[MAX_ENTRIES];
static int head, tail;

static int walk_one(const char *path)
{
	static long pos[MAX_ENTRIES];
	static char *names[MAX_ENTRIES];
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0, i, bad = 0;

	if (!dir) {
		printf("OPENDIR-FAILED %s\n", path);
		return 1;
	}
	for (;;) {
		long here = telldir(dir);

		d = readdir(dir);
		if (!d)
			break;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		printf("%s/%s|%d|%lu\n", path, d->d_name, d->d_type, (unsigned long)d->d_ino);
		if (n < MAX_ENTRIES) {
			pos[n] = here;
			names[n++] = strdup(d->d_name);
		}
		if (d->d_type == DT_DIR && tail < MAX_ENTRIES) {
			char *child = malloc(strlen(path) + strlen(d->d_name) + 2);

			sprintf(child, "%s/%s", path, d->d_name);
			queue[tail++] = child;
		}
	}
	/* Backwards, so every seek goes somewhere new. */
	for (i = n - 1; i >= 0; i--) {
		seekdir(dir, pos[i]);
		d = readdir(dir);
		if (!d || strcmp(d->d_name, names[i])) {
			printf("SEEK-MISMATCH %s/%s\n", path, names[i]);
			bad = 1;
		}
		free(names[i]);
	}
	closedir(dir);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dirwalk DIR\n");
		return 2;
	}
	queue[tail++] = strdup(argv[1]);
	while (head < tail)
		bad |= walk_one(queue[head++]);
	return bad;
}
