#!/usr/bin/env bash
# AppImage of the Linux bundle: build/tace-planner-VERSION-ARCH.AppImage from build/dist/tace-planner/.
# Run installer/build-linux.sh first. The AppImage needs one of two things that Debian does not
# package and that cannot be fetched offline (installer/README.md says where they come from):
#   APPIMAGETOOL=/path/to/appimagetool-x86_64.AppImage bash installer/build-appimage.sh
#   APPIMAGE_RUNTIME=/path/to/runtime-x86_64 bash installer/build-appimage.sh  (+ mksquashfs)
# Without either it stops after the AppDir (build/TACE_Planner.AppDir, runnable as AppDir/AppRun).
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=build/dist/tace-planner
if [ ! -x "$bundle/tace-planner" ]; then
  echo "error: $bundle/tace-planner is missing: run installer/build-linux.sh first" >&2
  exit 1
fi
version=$("$bundle/tace-planner" --version | awk '{print $2}')
arch=$(uname -m)
appdir=build/TACE_Planner.AppDir
rm -rf "$appdir"
mkdir -p "$appdir/usr/lib"
cp -a "$bundle" "$appdir/usr/lib/tace-planner"
install -m 644 installer/tace-planner.desktop "$appdir/tace-planner.desktop"
install -m 644 installer/icons/tace-planner.png "$appdir/tace-planner.png"
ln -s tace-planner.png "$appdir/.DirIcon"
cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
# The AppImage's entry point: the bundled executable, with the arguments given.
here=$(dirname "$(readlink -f "$0")")
exec "$here/usr/lib/tace-planner/tace-planner" "$@"
RUN
chmod 755 "$appdir/AppRun"
image="build/tace-planner-$version-$arch.AppImage"
if [ -n "${APPIMAGETOOL:-}" ]; then
  # appimagetool is itself an AppImage: without FUSE it can extract itself and run.
  ARCH=$arch "$APPIMAGETOOL" --appimage-extract-and-run --no-appstream "$appdir" "$image"
elif [ -n "${APPIMAGE_RUNTIME:-}" ]; then
  # What appimagetool does: the runtime (an ELF that mounts what follows it), then a
  # squashfs image of the AppDir.
  squashfs=$(mktemp)
  mksquashfs "$appdir" "$squashfs" -root-owned -noappend -comp zstd -quiet
  cat "$APPIMAGE_RUNTIME" "$squashfs" > "$image"
  rm -f "$squashfs"
  chmod 755 "$image"
else
  echo "AppDir: $appdir (run $appdir/AppRun); no AppImage made: set APPIMAGETOOL or" \
    "APPIMAGE_RUNTIME (installer/README.md)"
  exit 0
fi
echo "AppImage: $image ($(du -h "$image" | cut -f1))"
