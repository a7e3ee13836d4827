#!/bin/bash
# Runs inside the vm-check guest (started by vm-payload.service from the
# payload disk mounted on /payload): installs the staged `make install`
# tree, starts isol8d through its shipped units, runs the guest checks,
# the cgroup unit tests and the chosen suites, writes the results to
# /payload/results and powers the guest off.  The last line on the
# console is "guest: N passed, M failed, K skipped".
set -u
P=/payload
R=$P/results
mkdir -p "$R"
# Standard output goes to the journal and the console (vm-payload.service).
exec > >(tee -a "$R/guest-run.log") 2>&1
# shellcheck disable=SC1091
. "$P/vm.env"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PYTHONDONTWRITEBYTECODE=1

stamp() { echo "vm-check: [$(date +%T) +$(( $(date +%s) - T0 ))s] $*"; }
T0=$(date +%s)
stamp "guest up $(cut -d' ' -f1 /proc/uptime)s after boot; kernel $(uname -r)," \
	"cgroup fs $(stat -fc %T /sys/fs/cgroup)"
echo "$(cut -d' ' -f1 /proc/uptime)" > "$R/boot-seconds"

finish() {
	stamp "collecting logs"
	journalctl -b --no-pager -o short-monotonic > "$R/journal.txt" 2>&1
	journalctl -b --no-pager -o short-monotonic -u isol8d -u isol8d.socket \
		-u isol8-http -u isol8-http.socket > "$R/journal-isol8.txt" 2>&1
	python3 "$P/src/tools/vm/summarize.py" "$R" > "$R/summary.txt" 2>&1
	cat "$R/summary.txt"
	date +%s > "$R/finished"
	sync
	systemctl poweroff --no-block
	exit 0
}

# -- install what `make install` staged, and the runtimes -----------------
stamp "installing the staged tree"
# /lib and friends are symlinks into /usr on Debian 12: keep them so.
tar -C "$P/stage" -cf - . | tar -C / --keep-directory-symlink --no-overwrite-dir -xf -
mkdir -p /opt/isol8
cp -a "$P/runtimes" /opt/isol8/runtimes
[ -d "$P/criu" ] && cp -a "$P/criu" /opt/isol8/criu
systemd-sysusers
systemd-tmpfiles --create
systemctl daemon-reload
# The daemon builds the base images its store lacks at its first start.
# With no network here, mmdebstrap is stood in for by a script that makes
# bash's tree from the guest's own files, and only bash's is asked for.
install -m 0755 "$P/src/tools/vm/mmdebstrap-standin" /usr/local/bin/mmdebstrap
mkdir -p /etc/isol8
echo '{"images": {"build": ["bash"]}}' > /etc/isol8/isol8d.json
stamp "systemctl enable --now isol8d.socket"
systemctl enable --now isol8d.socket

cd "$P/src"
export ISOL8_BUILD=$P/build

# -- guest checks: the shipped units through systemctl --------------------
stamp "guest checks (tests/vm)"
timeout "${VM_CHECKS_TIMEOUT:-900}" python3 -m pytest -p no:cacheprovider -v --durations=0 \
	-o junit_family=xunit1 --junitxml="$R/vm-checks.xml" tests/vm \
	> "$R/vm-checks.log" 2>&1
stamp "guest checks done (exit $?)"
tail -n 40 "$R/vm-checks.log"

# -- unit tests of the v2 cgroup code against the real hierarchy ----------
stamp "unit tests: ${VM_UNIT_TESTS}"
# Each in a scope of its own with Delegate=yes, which is what the daemon
# has under its unit: the code under test makes its tree below its own
# cgroup.
for t in $VM_UNIT_TESTS; do
	timeout 600 systemd-run --quiet --scope -p Delegate=yes --collect \
		--unit="vm-unit-$t" \
		env CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$R/unit-$t.xml" \
		"$ISOL8_BUILD/tests/unit/$t" > "$R/unit-$t.log" 2>&1
	rc=$?
	echo "$t: exit $rc"
	# A binary that crashed or hung leaves no XML: count it as a failure.
	[ -s "$R/unit-$t.xml" ] || echo "$t $rc" >> "$R/crashed"
done

# -- the chosen part of the integration and security suites ---------------
if [ -n "${VM_SUITES:-}" ]; then
	stamp "suites: $VM_SUITES"
	# The list is split on blanks but never globbed (test ids hold [...]).
	set -f
	# shellcheck disable=SC2086
	timeout "${VM_SUITES_TIMEOUT:-1200}" \
		python3 -m pytest -p no:cacheprovider -q -rfE --durations=30 \
		-o junit_family=xunit1 --junitxml="$R/suites.xml" $VM_SUITES \
		> "$R/suites.log" 2>&1
	rc=$?
	set +f
	stamp "suites done (exit $rc)"
	tail -n 30 "$R/suites.log"
fi

finish
