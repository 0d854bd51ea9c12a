#!/usr/bin/env bash
# Put TACE Planner in the desktop's application menu (per user, no root):
# a `tace-planner` link in ~/.local/bin, the .desktop file and the icon.
# Run from the unpacked bundle folder: ./install-desktop.sh   (--remove undoes it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${XDG_BIN_HOME:-$HOME/.local/bin}
apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
icons=${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps
if [ "${1:-}" = "--remove" ]; then
  rm -f "$bin/tace-planner" "$apps/tace-planner.desktop" "$icons/tace-planner.png"
  echo "TACE Planner removed from the menu (the folder $here is left as it is)"
  exit 0
fi
mkdir -p "$bin" "$apps" "$icons"
ln -sf "$here/tace-planner" "$bin/tace-planner"
install -m 644 "$here/tace-planner.png" "$icons/tace-planner.png"
sed "s|^Exec=tace-planner|Exec=$here/tace-planner|" "$here/tace-planner.desktop" \
  > "$apps/tace-planner.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" || true
echo "TACE Planner added to the menu; command: $bin/tace-planner"
