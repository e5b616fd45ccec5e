# Build steps of the QEMU bench, sourced by run.sh. Every function prints the
# path of what it built and caches it under $cache (test/qemu/.cache/).

# resolve_kernel 6.12 -> 6.12.117+deb12-amd64: a kernel with both an image in
# /boot and headers in /usr/src.
resolve_kernel() {
	local want=$1 v
	for v in $(ls /boot | sed -n 's/^vmlinuz-//p' | sort -V); do
		case "$v" in
		"$want" | "$want".* | "$want"-*) ;;
		*) continue ;;
		esac
		[ -d "/usr/src/linux-headers-$v" ] && { echo "$v"; return 0; }
	done
	return 1
}

# build_module VER: daxfs.ko built from a copy of kernel/ (so builds for two
# kernels never share object files), W=1, warnings are errors.
build_module() {
	local kver=$1 dir="$cache/$1/kbuild"
	mkdir -p "$dir"
	# cp -p keeps mtimes, so make rebuilds only what changed.
	local f
	for f in "$repo"/kernel/*.c "$repo"/kernel/*.h "$repo"/kernel/Kbuild; do
		cmp -s "$f" "$dir/$(basename "$f")" || cp -p "$f" "$dir/"
	done
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$repo/kernel/$(basename "$f")" ] || rm -f "$f"
	done
	make -s -C "/usr/src/linux-headers-$kver" M="$dir" W=1 KCFLAGS=-Werror modules >&2 || return 1
	echo "$dir/daxfs.ko"
}

# build_helper NAME: a static guest helper from guest/NAME.c.
build_helper() {
	local src="$here/guest/$1.c" bin="$cache/helpers/$1"
	mkdir -p "$cache/helpers"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -o "$bin" "$src" >&2 || return 1
	fi
	echo "$bin"
}

# copy_module SRC DEST: a module file, decompressed (Debian 6.12 ships .ko.xz).
copy_module() {
	case "$1" in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# module_load_order VER MODULE...: the modules.dep paths of MODULE (a path under
# kernel/ without .ko) and of everything it needs, dependencies first, each
# once. A module built into VER (modules.builtin) prints nothing.
module_load_order() {
	local kver=$1 dir="/lib/modules/$1"
	shift
	awk -v want="$*" '
		FNR == NR { builtin[$1] = 1; next }
		{ name = $1; sub(/:$/, "", name); deps[name] = ""; for (i = 2; i <= NF; i++) deps[name] = deps[name] " " $i
		  key = name; sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", key); path[key] = name }
		function visit(m,   n, list, i) {
			if (m in seen) return
			seen[m] = 1
			n = split(deps[m], list, " ")
			# modules.dep lists the closest dependencies first: load from the end.
			for (i = n; i >= 1; i--) visit(list[i])
			print m
		}
		END {
			n = split(want, mods, " ")
			for (i = 1; i <= n; i++) {
				key = "kernel/" mods[i]
				if (key in path) visit(path[key])
				else if (!((key ".ko") in builtin)) { print "missing " mods[i] > "/dev/stderr"; exit 1 }
			}
		}' "$dir/modules.builtin" "$dir/modules.dep"
}

# install_host_root_modules VER DIR: what mounting the host root over
# virtio-9p needs (run.sh --host-root), decompressed into DIR with an `order`
# file for insmod. 6.1 builds virtio and virtio-pci as modules, 6.12 builds
# them in; netfs and fscache come in as dependencies where VER needs them.
install_host_root_modules() {
	local kver=$1 dir=$2 rel base list
	list=$(module_load_order "$kver" drivers/virtio/virtio_pci net/9p/9pnet_virtio fs/9p/9p) || return 1
	mkdir -p "$dir"
	: >"$dir/order"
	for rel in $list; do
		base=$(basename "$rel") base=${base%%.ko*}
		copy_module "/lib/modules/$kver/$rel" "$dir/$base.ko" || return 1
		echo "$base" >>"$dir/order"
	done
}

# build_base_initramfs VER: busybox, the NVDIMM drivers of VER, the guest
# init, daxlib.sh and the helpers; the run's own files are appended as a
# second cpio archive (the kernel unpacks concatenated archives in order).
build_base_initramfs() {
	local kver=$1 root="$cache/$1/initramfs" out="$cache/$1/base.cpio" m src helper
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,mnt,modules,scenarios}
	cp /usr/bin/busybox "$root/bin/busybox"
	for a in $(/usr/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	for m in drivers/nvdimm/libnvdimm drivers/acpi/nfit/nfit; do
		src=$(ls "/lib/modules/$kver/kernel/$m".ko* 2>/dev/null | head -n1)
		[ -n "$src" ] || { echo "missing $m for $kver" >&2; return 1; }
		copy_module "$src" "$root/modules/$(basename "$m").ko" || return 1
	done
	install_host_root_modules "$kver" "$root/modules/hostroot" || return 1
	cp "$here/guest/init" "$root/init" && chmod +x "$root/init"
	cp "$here/guest/daxlib.sh" "$root/bin/daxlib.sh"
	for src in "$here"/guest/*.c; do
		[ -e "$src" ] || continue
		helper=$(build_helper "$(basename "$src" .c)") || return 1
		cp "$helper" "$root/bin/"
	done
	(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$out"
	echo "$out"
}
