#!/usr/bin/env bash
# Installs what make vm-check needs on the host (Debian): qemu, qemu-img,
# mmdebstrap, mkfs.ext4 and debugfs.  Quiet when all are there.
set -euo pipefail
pkgs=(qemu-system-x86 qemu-utils mmdebstrap e2fsprogs)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "vm-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "vm-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
