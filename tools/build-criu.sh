#!/usr/bin/env bash
# Builds CRIU from Debian trixie's source package into $CRIU_PREFIX.
# Bookworm's criu (3.17) fails `criu check` on recent kernels (the vDSO's
# vvar_vclock pages it does not know); 4.1 and later handle them, and no
# bookworm binary of that exists.  Every downloaded byte is verified through
# Debian's signature chain: InRelease (gpgv, archive keyring) -> Sources.xz
# (sha256) -> the upstream tarball (sha256).  Quiet when already installed.
set -euo pipefail

CRIU_PREFIX=${CRIU_PREFIX:-/opt/isol8/criu}
CRIU_MIN=4.1
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
here=$(cd "$(dirname "$0")" && pwd)

# The patches applied (tools/criu/*.patch), by their hashes: a build with
# other patches is built again.
patches_id() { cat "$here"/criu/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1; }
have_version() {
	local v
	v=$("$CRIU_PREFIX/sbin/criu" --version 2>/dev/null | sed -n 's/^Version: //p') || return 1
	[ -n "$v" ] && dpkg --compare-versions "$v" ge "$CRIU_MIN"
}
if have_version && [ "$(cat "$CRIU_PREFIX/share/patches" 2>/dev/null)" = "$(patches_id)" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "build-criu: need root to install criu into $CRIU_PREFIX" >&2
	exit 1
fi

# What criu's Makefile needs for the criu binary itself (no docs, plugins).
deps=(build-essential pkg-config libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
	python3-protobuf libnl-3-dev libnet1-dev libcap-dev libaio-dev libbsd-dev
	libgnutls28-dev libnftables-dev uuid-dev gpgv xz-utils curl)
missing=()
for p in "${deps[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fetch() { curl -fsS --retry 3 -o "$2" "$MIRROR/$1"; }
check_sha256() { # file expected
	local got
	got=$(sha256sum "$1" | cut -d' ' -f1)
	if [ "$got" != "$2" ]; then
		echo "build-criu: $1: sha256 $got, expected $2" >&2
		exit 1
	fi
}

fetch "dists/$SUITE/InRelease" InRelease
gpgv --quiet --keyring "$KEYRING" --output Release InRelease 2>/dev/null || {
	echo "build-criu: $SUITE InRelease: bad signature" >&2
	exit 1
}
# The SHA256 section lists " hash size path"; take the source index's line.
sources_sha=$(awk '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3=="main/source/Sources.xz"{print $1}' Release)
[ -n "$sources_sha" ] || { echo "build-criu: no Sources.xz in $SUITE Release" >&2; exit 1; }
fetch "dists/$SUITE/main/source/Sources.xz" Sources.xz
check_sha256 Sources.xz "$sources_sha"

xz -dc Sources.xz | awk -v RS= '/(^|\n)Package: criu\n/' >stanza
[ -s stanza ] || { echo "build-criu: no criu source in $SUITE" >&2; exit 1; }
dir=$(sed -n 's/^Directory: //p' stanza)
# Only the upstream tarball is needed (criu builds with its own Makefile);
# its hash comes from the Checksums-Sha256 lines " hash size name".
orig=$(awk '/^Checksums-Sha256:/{s=1;next} /^[^ ]/{s=0} s && $3 ~ /\.orig\.tar\./{print $1, $3}' stanza)
[ -n "$orig" ] || { echo "build-criu: no upstream tarball listed for criu" >&2; exit 1; }
read -r sha name <<<"$orig"
fetch "$dir/$name" "$name"
check_sha256 "$name" "$sha"
mkdir src
tar -xf "$name" -C src --strip-components=1

cd src
for p in "$here"/criu/*.patch; do
	[ -e "$p" ] && patch -p1 --quiet <"$p"
done
# No git tree: criu's Makefile asks git for a version and says so.
make -s -j"$(nproc)" criu >/dev/null 2>&1 || make -j1 criu
install -D -m 0755 criu/criu "$CRIU_PREFIX/sbin/criu"
install -D -m 0644 images/rpc.proto "$CRIU_PREFIX/share/rpc.proto"
patches_id >"$CRIU_PREFIX/share/patches"
have_version || { echo "build-criu: built criu does not report >= $CRIU_MIN" >&2; exit 1; }
echo "build-criu: installed $("$CRIU_PREFIX/sbin/criu" --version | head -1) into $CRIU_PREFIX"
