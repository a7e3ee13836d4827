# The untrusted half of `isol8-image import`, run by /bin/sh inside the
# import sandbox as an unprivileged user: /in/archive is the input
# (read-only), /work/layout and /work/bundle are tmpfs mounts the size of
# --max-bytes, /log a small tmpfs for the tools' messages.  The format is
# found here, not on the host, since finding it means reading the archive.
# The last line of /log/error says what failed; the helper reports it.
set -u
log=/log/tools
layout=/work/layout/oci
ref="$layout:import"
export TMPDIR=/work/layout/tmp
mkdir "$TMPDIR" || exit 1

fail() {
	printf '%s\n' "$*" >/log/error
	exit 1
}
run() {
	"$@" >>"$log" 2>&1
}

if [ -d /in/archive ]; then
	[ -f /in/archive/oci-layout ] ||
		fail "the directory is not an OCI image layout (no oci-layout file)"
	format=oci-layout
	source=oci:/in/archive
else
	# tar's first complaint says why; its last only that it failed.
	tar -tf /in/archive >"$TMPDIR/names" 2>/log/tar ||
		fail "the archive is neither a tar archive nor an OCI image" \
			"layout directory ($(head -n 1 /log/tar | head -c 200))"
	if grep -qxE '(\./)?oci-layout' "$TMPDIR/names"; then
		format=oci-archive
		source=oci-archive:/in/archive
	elif grep -qxE '(\./)?manifest\.json' "$TMPDIR/names"; then
		format=docker-archive
		source=docker-archive:/in/archive
	else
		format=rootfs-tar
	fi
	rm -f "$TMPDIR/names"
fi
printf '%s\n' "$format" >/work/layout/format

if [ "$format" = rootfs-tar ]; then
	# A `docker export` tar is one layer: umoci makes it an image.
	run umoci init --layout "$layout" &&
		run umoci new --image "$ref" ||
		fail "umoci could not create an image layout"
	run umoci raw add-layer --image "$ref" /in/archive ||
		fail "umoci could not read the root filesystem tar"
else
	run skopeo --insecure-policy copy --quiet "$source" "oci:$ref" ||
		fail "skopeo could not read the $format"
	skopeo inspect "oci:$ref" >/work/layout/inspect.json 2>>"$log" ||
		fail "skopeo could not inspect the image"
	skopeo inspect --config "oci:$ref" >/work/layout/config.json 2>>"$log" ||
		fail "skopeo could not read the image configuration"
	skopeo inspect --raw "oci:$ref" >/work/layout/manifest.json 2>>"$log" ||
		fail "skopeo could not read the image manifest"
fi
run umoci unpack --rootless --image "$ref" /work/bundle/image ||
	fail "umoci could not unpack the image"
exit 0
