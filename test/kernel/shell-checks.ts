// Shell check helpers for guest scenarios of the kernel tests (busybox ash, guest/daxlib.sh sourced).

/** Shell checks: each prints "OK name" or "BAD name: why"; the scenario ends with "DONE". */
export const PRELUDE = `
is() { if [ "$2" = "$3" ]; then echo "OK $1"; else echo "BAD $1: got [$2] want [$3]"; fi; }
ok() { n=$1; shift; if "$@" >/tmp/out 2>&1; then echo "OK $n"; else echo "BAD $n: $(head -c 300 /tmp/out | tr '\\n' ' ')"; fi; }
no() { n=$1; shift; if "$@" >/tmp/out 2>&1; then echo "BAD $n: succeeded"; else echo "OK $n: $(head -c 200 /tmp/out | tr '\\n' ' ')"; fi; }
opts() { echo "phys=$(img_phys $1),size=$(img_size $1)\${2:+,$2}"; }
mnt() { mkdir -p $2; mount -t daxfs -o "$(opts $1 $3)" none $2; }
`;
