# shellcheck shell=bash
# apt_mirror SUITE: the Debian mirror apt already uses on this machine for SUITE (deb822 .sources
# first, then one-line sources.list), so downloads go where this machine is allowed to; Debian's
# CDN when apt names none. Sourced by test/rootfs/make-rootfs.sh and scripts/build-erofsfuse.sh.
apt_mirror() {
  local suite=$1 f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / '"$suite"'( |$)/ && u !~ /security/ { print u; exit }' "$f")
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    uri=$(awk '$1 == "deb" && $0 ~ " '"$suite"' " && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' "$f")
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}
