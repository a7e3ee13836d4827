#!/usr/bin/env bash
# make vm-check: boots a Debian 12 guest (systemd as PID 1, cgroup v2 only)
# under qemu, installs the project into it with `make install`, and runs
# the guest checks (tests/vm), the v2 cgroup unit tests and a part of the
# integration and security suites there.  See tools/vm/README.md.
#
# Needs root, the built tree (make all and the unit test binaries), Bun
# and Deno in /opt/isol8/runtimes, and tools/vm/install-deps.sh's tools.
# Results and logs land in build-vm/ of the repository.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
OUT=${VM_OUT:-$repo/build-vm}
RUNTIMES_PREFIX=${RUNTIMES_PREFIX:-/opt/isol8/runtimes}
CRIU_PREFIX=${CRIU_PREFIX:-/opt/isol8/criu}
VM_TIMEOUT=${VM_TIMEOUT:-2400}        # seconds before qemu is killed
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-900} # seconds until guest-run.sh must have started
VM_MEM=${VM_MEM:-4096}
VM_CPUS=${VM_CPUS:-2}
# What runs in the guest besides tests/vm; see tools/vm/README.md.
VM_UNIT_TESTS=${VM_UNIT_TESTS:-test_cgroup}
VM_SUITES=${VM_SUITES-$(grep -v '^\s*#' "$here/suites" | xargs)}

log() { echo "vm-check: $*"; }
die() { echo "vm-check: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (image build, guest install tree)"
for c in qemu-system-x86_64 qemu-img mkfs.ext4 debugfs mmdebstrap; do
	command -v "$c" >/dev/null || die "$c missing: run tools/vm/install-deps.sh"
done
[ -x "$BUILD/isol8d" ] || die "$BUILD/isol8d missing: make all first"
for t in $VM_UNIT_TESTS; do
	[ -x "$BUILD/tests/unit/$t" ] || die "$BUILD/tests/unit/$t missing"
done
[ -x "$RUNTIMES_PREFIX/bin/bun" ] && [ -x "$RUNTIMES_PREFIX/bin/deno" ] ||
	die "Bun and Deno missing in $RUNTIMES_PREFIX: make deps"

t_start=$(date +%s)

# -- 1. the guest image (cached) -------------------------------------------
# VM_IMAGE names a ready image directory instead (root.img, vmlinuz,
# initrd.img), e.g. one kept from an earlier version of the build script.
if [ -n "${VM_IMAGE:-}" ]; then
	image=$VM_IMAGE
else
	image=$("$here/build-image.sh")
fi
t_image=$(date +%s)
log "image: $image ($(( t_image - t_start ))s)"
# Images of other versions of the build script are of no more use.
if [ -z "${VM_IMAGE:-}" ] && [ "${VM_KEEP_IMAGES:-0}" != 1 ]; then
	for old in "$(dirname "$image")"/debian12-*; do
		[ "$old" = "$image" ] || rm -rf "$old"
	done
fi

# -- 2. the payload: make install, build dir, tests, runtimes --------------
rm -rf "$OUT"
mkdir -p "$OUT"
run=$(mktemp -d "${TMPDIR:-/var/tmp}/isol8-vm.XXXXXX")
trap 'rm -rf "$run"' EXIT
pl=$run/payload
mkdir -p "$pl/src" "$pl/results"
make -s -C "$repo" BUILD="$BUILD" install DESTDIR="$pl/stage" >/dev/null
mkdir -p "$pl/build"
# The build directory without its object files.
tar -C "$BUILD" --exclude='*.o' --exclude='*.d' --exclude='*.a' -cf - . |
	tar -C "$pl/build" -xf -
for d in tests units profiles man tools; do
	cp -a "$repo/$d" "$pl/src/$d"
done
cp -a "$repo/Makefile" "$pl/src/"
find "$pl/src" -name __pycache__ -prune -exec rm -rf {} +
cp -a "$RUNTIMES_PREFIX/." "$pl/runtimes"
# CRIU for session hibernation, where tools/build-criu.sh installed it.
[ -x "$CRIU_PREFIX/sbin/criu" ] && cp -a "$CRIU_PREFIX/." "$pl/criu"
cp "$here/guest-run.sh" "$pl/"
{
	printf 'VM_UNIT_TESTS=%q\n' "$VM_UNIT_TESTS"
	printf 'VM_SUITES=%q\n' "$VM_SUITES"
} > "$pl/vm.env"
size_mb=$(( $(du -sm "$pl" | cut -f1) + 1024 ))
mkfs.ext4 -q -F -L VMPAYLOAD -d "$pl" "$run/payload.img" "${size_mb}M" >/dev/null
rm -rf "$pl"
# A copy-on-write overlay per run keeps the cached image clean.
qemu-img create -q -f qcow2 -b "$image/root.img" -F raw "$run/root.qcow2"
t_payload=$(date +%s)
log "payload ready ($(( t_payload - t_image ))s)"

# -- 3. boot -----------------------------------------------------------------
# KVM only where the CPU shows hardware virtualisation: some hosts offer a
# /dev/kvm (a paravirtual one such as kvm-pvm) whose guests need a kernel
# built for it, and a stock Debian kernel hangs there before its first line.
accel=${VM_ACCEL:-tcg}
if [ -z "${VM_ACCEL:-}" ] && [ -w /dev/kvm ] && grep -Eqw 'vmx|svm' /proc/cpuinfo; then
	accel=kvm
fi
log "booting the guest (accel $accel, ${VM_MEM} MiB, $VM_CPUS CPUs," \
	"timeout ${VM_TIMEOUT}s); serial console: $OUT/serial.log"
set +e
timeout --kill-after=10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-accel "$accel" -m "$VM_MEM" -smp "$VM_CPUS" \
	$( [ "$accel" = tcg ] && echo "-cpu max" ) \
	-kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 panic=1 quiet systemd.show_status=1" \
	-drive "file=$run/root.qcow2,format=qcow2,if=virtio" \
	-drive "file=$run/payload.img,format=raw,if=virtio" \
	-nographic -serial "file:$OUT/serial.log" -monitor none \
	-nic none -no-reboot </dev/null >"$OUT/qemu.log" 2>&1 &
qpid=$!
# A guest that never reaches its payload would hold the run for the whole
# VM_TIMEOUT: give up early when the first line of guest-run.sh is late.
booted=0
for (( waited = 0; waited < VM_BOOT_TIMEOUT; waited += 5 )); do
	grep -q 'vm-check: \[.*guest up' "$OUT/serial.log" 2>/dev/null && { booted=1; break; }
	kill -0 "$qpid" 2>/dev/null || break
	sleep 5
done
if [ $booted -eq 0 ] && kill -0 "$qpid" 2>/dev/null; then
	log "BOOT TIMEOUT: the guest did not start its payload within ${VM_BOOT_TIMEOUT}s"
	kill -TERM "$qpid" 2>/dev/null  # timeout(1) passes it on to qemu
fi
wait "$qpid"
qrc=$?
set -e
t_end=$(date +%s)
[ $qrc -eq 124 ] || [ $qrc -eq 137 ] && log "TIMEOUT: the guest did not finish within ${VM_TIMEOUT}s"
[ $qrc -ne 0 ] && [ $qrc -ne 124 ] && [ $qrc -ne 137 ] && log "qemu exited $qrc: $(tail -n 5 "$OUT/qemu.log")"

# -- 4. results ----------------------------------------------------------------
debugfs -R "rdump /results $OUT" "$run/payload.img" >/dev/null 2>&1 || true
status=0
if [ ! -f "$OUT/results/finished" ]; then
	log "the guest did not finish its run (see $OUT/serial.log)"
	status=1
fi
python3 "$here/summarize.py" "$OUT/results" > "$OUT/summary.txt" || status=1
boot=$(cat "$OUT/results/boot-seconds" 2>/dev/null || echo '?')
log "times: image $(( t_image - t_start ))s, payload $(( t_payload - t_image ))s," \
	"guest $(( t_end - t_payload ))s (checks began ${boot}s after the kernel started)," \
	"total $(( t_end - t_start ))s"
log "logs: $OUT/ (serial.log, results/: vm-checks.log, suites.log, journal.txt)"
# The summary last: its final line is the whole run's count.
cat "$OUT/summary.txt"
exit $status
