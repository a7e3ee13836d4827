#!/usr/bin/env bash
# Builds the Debian 12 guest of `make vm-check` from Debian packages and
# caches it: a raw ext4 root file system image (root.img) with the guest's
# kernel (vmlinuz) and initramfs (initrd.img) beside it.
#
#   tools/vm/build-image.sh            prints the directory of the image,
#                                      building it first when it is not cached
#
# The cache lives in $VM_CACHE (default /var/cache/isol8/vm), one directory
# per hash of this script, the package list and vm-payload.service, so a
# change to any of them builds a new image and a second run reuses the
# first one's.  Packages come from the
# archive the host's apt uses (its sources.list and sources.list.d), or from
# $VM_MIRROR when set (a Debian mirror URL).
#
# The guest boots systemd with the unified (v2 only) cgroup hierarchy, has no
# network device and no login, and starts one service of its own,
# vm-payload.service, which mounts the second disk (/dev/vdb, file system
# label VMPAYLOAD) on /payload (through /etc/fstab) and runs /payload/guest-run.sh from it.  What
# the guest does therefore lives in the payload, not in the cached image.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The system's tools only (mmdebstrap's helpers are Python scripts that
# must run with Debian's python3, not one found first in PATH).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
VM_CACHE=${VM_CACHE:-/var/cache/isol8/vm}
SUITE=bookworm
IMAGE_SIZE=${VM_IMAGE_SIZE:-6G}

log() { echo "vm-image: $*" >&2; }

key=$(cat "$here/build-image.sh" "$here/packages" "$here/vm-payload.service" | sha256sum | cut -c1-16)
out="$VM_CACHE/debian12-$key"
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || { log "needs root (mmdebstrap, image ownership)"; exit 1; }
for c in mmdebstrap mkfs.ext4; do
	command -v "$c" >/dev/null || { log "$c missing: run tools/vm/install-deps.sh"; exit 1; }
done

mkdir -p "$VM_CACHE"
work=$(mktemp -d "$VM_CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Where packages come from: the host's apt sources, unless told otherwise.
mirrors=()
if [ -n "${VM_MIRROR:-}" ]; then
	mirrors=("deb $VM_MIRROR $SUITE main" "deb $VM_MIRROR $SUITE-updates main")
else
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && mirrors+=("$f")
	done
fi
[ ${#mirrors[@]} -gt 0 ] || { log "no apt sources found; set VM_MIRROR"; exit 1; }

pkgs=$(grep -v '^\s*#' "$here/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')

log "building Debian 12 guest image in $out (takes a few minutes)"
start=$(date +%s)
buildlog="$VM_CACHE/build-$key.log"
if ! mmdebstrap --verbose --variant=minbase --include="$pkgs" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo MODULES=most > "$1/etc/initramfs-tools/conf.d/vm-check"' \
	--customize-hook='echo vmcheck > "$1/etc/hostname"' \
	--customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 vmcheck\n::1 localhost\n" > "$1/etc/hosts"' \
	--customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\nLABEL=VMPAYLOAD /payload ext4 rw,nofail,x-systemd.device-timeout=20s 0 0\n" > "$1/etc/fstab"' \
	--customize-hook='rm -f "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"; : > "$1/etc/machine-id"' \
	--customize-hook='chroot "$1" passwd -d root >/dev/null' \
	--customize-hook="cp '$here/vm-payload.service' \"\$1/etc/systemd/system/\"" \
	--customize-hook='mkdir -p "$1/payload" "$1/etc/systemd/system/multi-user.target.wants"; ln -s ../vm-payload.service "$1/etc/systemd/system/multi-user.target.wants/vm-payload.service"' \
	--customize-hook='for u in systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer systemd-timesyncd.service; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done' \
	--customize-hook="cp \"\$1\"/boot/vmlinuz-* '$work/vmlinuz'; cp \"\$1\"/boot/initrd.img-* '$work/initrd.img'" \
	"$SUITE" "$work/root" "${mirrors[@]}" >"$buildlog" 2>&1; then
	tail -n 30 "$buildlog" >&2
	log "mmdebstrap failed; its whole output: $buildlog"
	exit 1
fi

# The guest's kernel must find its root on virtio and boot systemd with v2.
[ -s "$work/initrd.img" ] && [ -s "$work/vmlinuz" ] || { log "no kernel or initrd.img was built"; exit 1; }

truncate -s "$IMAGE_SIZE" "$work/root.img"
mkfs.ext4 -q -F -L vmroot -d "$work/root" "$work/root.img"
rm -rf "$work/root"
mv "$buildlog" "$work/build.log"
touch "$work/done"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
log "built in $(( $(date +%s) - start ))s: $out"
echo "$out"
