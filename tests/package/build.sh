#!/bin/bash
# build.sh OUT: build the Debian package from a copy of this tree (the files
# git tracks, and new ones it does not ignore -- what a fresh clone would
# hold), so that dpkg-buildpackage writes nothing beside the tree.  The
# .deb, .buildinfo and .changes land in OUT; OUT/build.log has the log.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
rm -rf "$out" && mkdir -p "$out/src/minyi"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$out/src/minyi"
cd "$out/src/minyi"
if ! dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
mv ../*.deb ../*.changes ../*.buildinfo "$out/"
