#!/usr/bin/env bash
# Installs what building, testing and running isol8d needs; quiet and quick
# when everything is already there.  Debian packages via apt, Bun and Deno
# from the npm registry into one fixed prefix the boxes expose.
set -euo pipefail

RUNTIMES_PREFIX=${RUNTIMES_PREFIX:-/opt/isol8/runtimes}
# Tools the tests use to check the deployment files (tests/integration/
# test_deploy.py), apart from the runtimes the boxes see.
DEVTOOLS_PREFIX=${DEVTOOLS_PREFIX:-/opt/isol8/devtools}

pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev musl-tools
	libsystemd-dev libjson-c-dev libseccomp-dev libnl-3-dev libnl-route-3-dev
	libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev libpcre2-dev libsqlite3-dev
	libssl-dev libpq-dev postgresql haproxy python3-kubernetes python3-yaml iproute2
	libprotobuf-c-dev protobuf-c-compiler
	python3 python3-dev python3-pip python3-pytest python3-websockets bubblewrap systemd curl wrk strace cppcheck clang-tidy clang-format
	golang-github-containers-common skopeo umoci jq
	mmdebstrap
)
# Node.js may come from another packager that bundles npm; only install
# Debian's when the commands are missing, never on top of another.
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

is_elf() { [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# The npm packages ship the binaries in per-platform packages; their install
# scripts move them in place, so look in both places.
find_bin() {
	local c
	for c in "$@"; do
		if is_elf "$RUNTIMES_PREFIX/node_modules/$c"; then
			echo "$RUNTIMES_PREFIX/node_modules/$c"
			return 0
		fi
	done
	return 1
}

link_runtimes() {
	local bun deno
	bun=$(find_bin bun/bin/bun.exe @oven/bun-linux-x64/bin/bun @oven/bun-linux-x64-baseline/bin/bun) || return 1
	deno=$(find_bin @deno/linux-x64-glibc/deno deno/deno) || return 1
	mkdir -p "$RUNTIMES_PREFIX/bin"
	ln -sfn "$bun" "$RUNTIMES_PREFIX/bin/bun"
	ln -sfn "$deno" "$RUNTIMES_PREFIX/bin/deno"
	"$RUNTIMES_PREFIX/bin/bun" --version >/dev/null
	"$RUNTIMES_PREFIX/bin/deno" --version >/dev/null
}

if ! link_runtimes 2>/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install Bun and Deno into $RUNTIMES_PREFIX" >&2
		exit 1
	fi
	echo "install-deps: installing bun and deno into $RUNTIMES_PREFIX"
	mkdir -p "$RUNTIMES_PREFIX"
	npm install --silent --no-fund --no-audit --prefix "$RUNTIMES_PREFIX" bun deno >/dev/null
	link_runtimes
fi

# HCL2's own parser (HashiCorp's hcl library as WebAssembly) for the Nomad
# job; offline once installed.
if [ ! -f "$DEVTOOLS_PREFIX/node_modules/@cdktf/hcl2json/package.json" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install @cdktf/hcl2json into $DEVTOOLS_PREFIX" >&2
		exit 1
	fi
	echo "install-deps: installing @cdktf/hcl2json into $DEVTOOLS_PREFIX"
	mkdir -p "$DEVTOOLS_PREFIX"
	npm install --silent --no-fund --no-audit --prefix "$DEVTOOLS_PREFIX" @cdktf/hcl2json >/dev/null
fi

# CRIU for session hibernation: built from Debian's source, see build-criu.sh.
"$(dirname "$0")/build-criu.sh"
