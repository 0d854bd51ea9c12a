#!/usr/bin/env bash
# CI step: build the Linux bundle in its own venv, unpack the tarball in a fresh folder and
# run `tace-planner --self-test` from it offscreen, with no Python venv on PATH and an empty
# HOME (the bundle must carry everything it needs). Prints how long each part took.
# Usage: bash installer/ci-build-linux.sh   (from the repository root; called by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
start=$(date +%s)

"$PYTHON" -m venv .ci-venv-bundle
.ci-venv-bundle/bin/python -m pip install -q --upgrade pip
.ci-venv-bundle/bin/python -m pip install -q -e ".[bundle]"
installed=$(date +%s)

PYTHON=.ci-venv-bundle/bin/python bash installer/build-linux.sh
built=$(date +%s)

fresh=$(mktemp -d)
tarball=$(ls build/tace-planner-*-linux-*.tar.gz)
tar -C "$fresh" -xzf "$tarball"
mkdir "$fresh/home"
(
  cd "$fresh"
  env -i HOME="$fresh/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    TMPDIR="$fresh" ./tace-planner/tace-planner --self-test
)
tested=$(date +%s)
echo "bundle: $(du -sh "$fresh/tace-planner" | cut -f1) unpacked, tarball $(du -h "$tarball" | cut -f1)"
echo "bundle step: venv $((installed - start)) s, build $((built - installed)) s," \
  "self-test $((tested - built)) s, total $((tested - start)) s"
rm -rf "$fresh"
