#!/usr/bin/env bash
# Build the Linux one-folder bundle and its tarball:
#   build/dist/tace-planner/               the bundle (run ./tace-planner)
#   build/tace-planner-VERSION-linux-ARCH.tar.gz
# The tarball holds tace-planner/ with the .desktop file, the icon and install-desktop.sh.
# Usage: bash installer/build-linux.sh   (from a venv with `pip install -e ".[bundle]"`)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}

version=$("$PYTHON" -c "import tace_planner; print(tace_planner.__version__)")
arch=$(uname -m)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath build/dist --workpath build/pyinstaller installer/tace-planner.spec
bundle=build/dist/tace-planner
install -m 644 installer/tace-planner.desktop "$bundle/tace-planner.desktop"
install -m 644 installer/icons/tace-planner.png "$bundle/tace-planner.png"
install -m 755 installer/install-desktop.sh "$bundle/install-desktop.sh"
tarball="build/tace-planner-$version-linux-$arch.tar.gz"
tar -C build/dist -czf "$tarball" tace-planner
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1))"
echo "tarball: $tarball ($(du -h "$tarball" | cut -f1))"
