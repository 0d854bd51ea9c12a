#!/usr/bin/env bash
# Build "TACE Planner.app" and a .dmg on macOS (run on a Mac; not run on the Linux CI):
#   build/dist/TACE Planner.app
#   build/tace-planner-VERSION-macos-ARCH.dmg
# Signing and notarisation run only when their variables are set (see installer/README.md):
#   CODESIGN_IDENTITY="Developer ID Application: NAME (TEAMID)"
#   NOTARY_PROFILE=name-of-a-notarytool-keychain-profile
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

version=$("$PYTHON" -c "import tace_planner; print(tace_planner.__version__)")
arch=$(uname -m)
"$PYTHON" installer/make_icons.py
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath build/dist --workpath build/pyinstaller installer/tace-planner.spec
app="build/dist/TACE Planner.app"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  # Hardened runtime, as notarisation requires; Python needs no JIT or unsigned-memory
  # entitlement for this app (no ctypes callbacks into generated code).
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
fi

"$app/Contents/MacOS/tace-planner" --self-test

dmg="build/tace-planner-$version-macos-$arch.dmg"
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "TACE Planner" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$dmg"
fi
if [ -n "${NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "app: $app"
echo "dmg: $dmg ($(du -h "$dmg" | cut -f1))"
