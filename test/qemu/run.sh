#!/bin/bash
# DAXFS QEMU bench: build daxfs.ko for a kernel, boot it under TCG with a pack
# of images as an emulated NVDIMM, run guest scenarios, collect the results.
#
#   test/qemu/run.sh --kernel 6.12 --image base=img.bin [--image ...] \
#       --scenario walk.sh [--scenario ...] [--out DIR] [--timeout SEC] [--host-root]
#   test/qemu/run.sh --kernel 6.12 --guests 2 --image base=img.bin \
#       --guest 0 --scenario a.sh --guest 1 --scenario b.sh ...
#
# Each --image NAME=FILE is copied into the pack at a 2 MiB aligned offset; in
# the guest, daxmount NAME MNT mounts it (guest/daxlib.sh). Scenarios run in
# file name order, one shell each; --host-root shares the host's root read-only
# over virtio-9p so that scenarios can run the host's programs (node, our CLIs)
# with host_run (guest/daxlib.sh); their stdout+stderr go to DIR/results.txt
# between "@@BEGIN name" and "@@END name RC". DIR/console.log is the serial
# console. Exit status: 0 when the guest finished, no scenario failed and the
# console and dmesg show no oops, BUG, WARNING, KASAN report or general
# protection fault; 1 otherwise (the console tail is printed); 2 on usage or
# build errors. Built artifacts are cached in test/qemu/.cache/.
#
# --guests N boots N guests at the same time on the same pack file (one
# memory-backend-file, share=on, so they share the memory like kernels on one
# CXL pool); --guest I sends the following --scenario options to guest I
# (default 0). A 16 KiB sync area follows the images (guest/shmsync.c). Guest 0
# writes DIR/console.log and DIR/results.txt, guest I>0 DIR/guest-I/; each
# guest's QEMU process id is in DIR/guest-I.pid: the host may kill a guest's
# QEMU after creating DIR/guest-I.killed, and then that guest is not required
# to finish (test/qemu/README.md "Several guests").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$here/.cache"
kernel="" out="" timeout=300 mem=1G guests=1 guest=0
images=() scenarios=()

die() { echo "qemu bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--image) images+=("$2"); shift 2 ;;
	--scenario) scenarios+=("$guest:$2"); shift 2 ;;
	--guests) guests=$2; shift 2 ;;
	--guest) guest=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	--host-root) host_root=1; shift ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[ -n "$kernel" ] || die "--kernel VERSION is required (6.1, 6.12 or a full uname -r)"
[[ "$guests" =~ ^[1-9][0-9]?$ ]] && [ "$guests" -le 8 ] || die "--guests must be 1..8"
for s in "${scenarios[@]}"; do
	[[ "${s%%:*}" =~ ^[0-9]+$ ]] && [ "${s%%:*}" -lt "$guests" ] ||
		die "--guest ${s%%:*} is not one of the $guests guests"
done

# shellcheck source=build.sh
. "$here/build.sh"
kver=$(resolve_kernel "$kernel") || die "no kernel image and headers for '$kernel' under /boot and /usr/src"
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/daxfs-qemu.XXXXXX")
mkdir -p "$out" "$cache/$kver"

# Test files run in parallel and share the build cache of a kernel: build under an exclusive
# lock and take private copies of the module and base initramfs before letting go.
exec 9>"$cache/$kver/build.lock"
flock 9
module=$(build_module "$kver") || die "module build failed for $kver"
base_cpio=$(build_base_initramfs "$kver") || die "initramfs build failed for $kver"
cp "$module" "$out/daxfs.ko" && cp "$base_cpio" "$out/base.cpio" || die "cannot copy the build to $out"
flock -u 9
exec 9>&-
[ -z "${build_only:-}" ] || { echo "$module"; exit 0; }
module="$out/daxfs.ko" base_cpio="$out/base.cpio"

run_dir="$out/run"
rm -rf "$run_dir" && mkdir -p "$run_dir/root/scenarios"
rm -f "$out"/guest-*.pid "$out"/guest-*.killed

# The pack: every image at a 2 MiB boundary, the total a multiple of 2 MiB
# (the NVDIMM backend needs aligned sizes).
align=$((2 * 1024 * 1024))
pack="$out/pack.img"
: >"$pack"
offset=0
: >"$run_dir/root/pack.env"
for spec in "${images[@]}"; do
	name=${spec%%=*} file=${spec#*=}
	[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || die "image name '$name' must match [A-Za-z0-9_]+"
	[ -f "$file" ] || die "image file '$file' does not exist"
	size=$(stat -c %s "$file")
	dd if="$file" of="$pack" bs=1M seek=$((offset / 1048576)) conv=notrunc status=none
	echo "IMG_${name}_OFF=$offset IMG_${name}_SIZE=$size" >>"$run_dir/root/pack.env"
	offset=$(((offset + size + align - 1) / align * align))
done
if [ "$guests" -gt 1 ]; then
	# The sync area (guest/shmsync.c): its own 2 MiB block after the last image.
	echo "SYNC_OFF=$offset GUESTS=$guests" >>"$run_dir/root/pack.env"
	offset=$((offset + align))
fi
[ "$offset" -gt 0 ] || offset=$align
truncate -s "$offset" "$pack"

for s in "${scenarios[@]}"; do
	[ -f "${s#*:}" ] || die "scenario '${s#*:}' does not exist"
done
cp "$module" "$run_dir/root/daxfs.ko"
virtfs=()
if [ -n "${host_root:-}" ]; then
	# The guest mounts it on /hostroot; host_run chroots there and starts in the repo (the same path).
	echo "DAXFS_REPO=$(realpath "$repo")" >"$run_dir/root/hostroot.env"
	virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
fi

# guest_dir I: where guest I's console.log and results.txt go.
guest_dir() { if [ "$1" -eq 0 ]; then echo "$out"; else echo "$out/guest-$1"; fi; }

# Each guest's initramfs: the shared run files, its id and its own scenarios.
for ((g = 0; g < guests; g++)); do
	root="$run_dir/g$g"
	cp -r "$run_dir/root" "$root"
	echo "GUEST_ID=$g" >>"$root/pack.env"
	i=0
	for s in "${scenarios[@]}"; do
		if [ "${s%%:*}" = "$g" ]; then
			cp "${s#*:}" "$root/scenarios/$(printf '%03d' $i)-$(basename "${s#*:}")"
			i=$((i + 1))
		fi
	done
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$run_dir/run-$g.cpio"
	cat "$base_cpio" "$run_dir/run-$g.cpio" >"$run_dir/initramfs-$g.cpio"
	mkdir -p "$(guest_dir "$g")"
	: >"$(guest_dir "$g")/console.log"; : >"$(guest_dir "$g")/results.txt"
done
# Several developers (or worktrees) on one 2-core machine: DAXFS_GUEST_LOCK=FILE boots one guest
# at a time machine-wide (TCG guests starve each other). Off by default: vitest's timeouts would
# count the wait. The lock is taken once for all the guests of this run: they must run together
# (a guest waiting at a barrier for one that waits for the lock would never finish).
if [ -n "${DAXFS_GUEST_LOCK:-}" ]; then
	exec 8>"$DAXFS_GUEST_LOCK"
	flock 8
fi
# Several guests: multi-threaded TCG for certain (x86's default with -smp 2), so a guest's cmpxchg
# is a host atomic on the shared file mapping, atomic against the other QEMU processes too.
accel=tcg
[ "$guests" -eq 1 ] || accel=tcg,thread=multi
pids=()
# timeout(1) puts each guest in a process group of its own: stop them when this script is stopped.
stop_guests() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_guests; exit 1' INT TERM
trap stop_guests EXIT
for ((g = 0; g < guests; g++)); do
	dir=$(guest_dir "$g")
	timeout --kill-after=5 "$timeout" qemu-system-x86_64 \
		-accel "$accel" -cpu max -smp 2 \
		-machine pc,nvdimm=on -m "$mem,slots=2,maxmem=4G" \
		-object "memory-backend-file,id=m1,share=on,mem-path=$pack,size=$offset" \
		-device nvdimm,id=nv1,memdev=m1 \
		"${virtfs[@]}" \
		-kernel "/boot/vmlinuz-$kver" -initrd "$run_dir/initramfs-$g.cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 oops=panic loglevel=5" \
		-display none -monitor none -no-reboot -pidfile "$out/guest-$g.pid" \
		-serial "file:$dir/console.log" -serial "file:$dir/results.txt" &
	pids+=($!)
done
failed=0
for ((g = 0; g < guests; g++)); do
	set +e
	wait "${pids[$g]}"
	qemu_rc=$?
	set -e
	dir=$(guest_dir "$g") tag=""
	console="$dir/console.log" results="$dir/results.txt"
	[ "$guests" -eq 1 ] || tag="guest $g: "
	killed=""
	[ -e "$out/guest-$g.killed" ] && killed=1
	if [ -n "$killed" ]; then
		echo "KILLED guest $g (stopped by the host)"
	elif [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
		echo "qemu bench: ${tag}guest timed out after ${timeout}s" >&2
		failed=1
	elif grep -q '^@@BENCH hostroot failed' "$results"; then
		echo "qemu bench: ${tag}the guest could not mount the host root (--host-root):" >&2
		grep '^@@BENCH hostroot' "$results" >&2
		failed=1
	elif ! grep -q '^@@BENCH done' "$results"; then
		echo "qemu bench: ${tag}guest stopped before finishing (qemu exit $qemu_rc)" >&2
		failed=1
	fi
	if grep -qE 'Oops|BUG:|WARNING:|KASAN|general protection' "$console" "$results"; then
		echo "qemu bench: ${tag}kernel reported a problem:" >&2
		grep -m5 -E 'Oops|BUG:|WARNING:|KASAN|general protection' "$console" "$results" >&2 || true
		failed=1
	fi
	while read -r _ name rc; do
		if [ "$rc" = 0 ]; then echo "PASS $tag$name"; else echo "FAIL $tag$name (exit $rc)"; failed=1; fi
	done < <(grep '^@@END ' "$results")
	[ -n "$killed" ] || grep -q '^@@BENCH rmmod ok' "$results" ||
		{ echo "qemu bench: ${tag}rmmod daxfs failed" >&2; failed=1; }
	if [ "$failed" -ne 0 ]; then
		echo "---- ${tag}console tail ($console) ----" >&2
		tail -n 40 "$console" >&2
		echo "---- ${tag}results: $results ----" >&2
		# The others would run on alone until their own timeout.
		stop_guests
		wait
		exit 1
	fi
done
echo "results: $(guest_dir 0)/results.txt"
