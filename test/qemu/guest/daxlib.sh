# Helpers sourced by every guest scenario (see test/qemu/README.md).
# /pack.env defines IMG_<name>_OFF and IMG_<name>_SIZE for each image that the
# host placed in the NVDIMM pack; PMEM_BASE is the pack's physical address;
# SCRATCH is a writable directory (tmpfs) of the scenario's own.
. /pack.env

img_off() { eval "echo \$IMG_${1}_OFF"; }
img_size() { eval "echo \$IMG_${1}_SIZE"; }
img_phys() { printf '0x%x\n' $((PMEM_BASE + $(img_off "$1"))); }

# daxmount IMAGE MNT [EXTRA_OPTIONS]: mount one image of the pack.
daxmount() {
	mkdir -p "$2"
	mount -t daxfs -o "phys=$(img_phys "$1"),size=$(img_size "$1")${3:+,$3}" none "$2"
}

# cached_kb: the page cache size (Cached in /proc/meminfo), in KiB.
cached_kb() { awk '/^Cached:/ { print $2 }' /proc/meminfo; }

# last_kmsg: the last kernel log line (for checking a refusal's message).
last_kmsg() { dmesg | tail -n 1 | sed 's/^\[[^]]*\] //'; }

# host_run CMD [ARG...]: run a program of the host chrooted in its root (run.sh
# --host-root), in the repository's directory (DAXFS_REPO, the host's path), so
# `host_run node packages/inspect/dist/cli.js ...` runs our CLIs. The exit status
# is the program's. /tmp, /mnt, /proc, /sys and /dev are the guest's own.
host_run() {
	if [ -z "${DAXFS_REPO:-}" ]; then
		echo "host_run: the guest was booted without --host-root" >&2
		return 125
	fi
	chroot /hostroot /usr/bin/env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp TMPDIR=/tmp /bin/sh -c 'cd "$1" && shift && exec "$@"' host_run "$DAXFS_REPO" "$@"
}

# Several guests on one pack (run.sh --guests N): GUEST_ID is this guest's
# number, GUESTS the count, SYNC_OFF the sync area's offset in the pack
# (guest/shmsync.c). guest_barrier waits until every guest has called it as
# often as this one; guest_commit MNT is a barrier followed at once by
# `mount -o remount,commit MNT`, printing "won NS" or "lost ERROR NS";
# guest_flag set W V | get W | wait W V use the flag words (64..255), which
# the host can also read and write in the pack file.
shm() { shmsync "$(printf '0x%x' $((PMEM_BASE + SYNC_OFF)))" "$GUEST_ID" "$GUESTS" "$@"; }
guest_barrier() { shm barrier; }
guest_commit() { shm commit "$1"; }
guest_flag() { shm "$@"; }
