#!/usr/bin/env bash
# Renders the icons from their SVG sources in icons/src (needs rsvg-convert: librsvg2-bin).
# The PNGs are committed, so building the app does not need this.
set -euo pipefail
cd "$(dirname "$0")"
for size in 32 128 256 512; do
  rsvg-convert -w $size -h $size src/app.svg -o "app-$size.png"
done
mv app-32.png 32x32.png
mv app-128.png 128x128.png
mv app-256.png 128x128@2x.png
mv app-512.png icon.png
for state in ok refreshing attention sign-in; do
  rsvg-convert -w 64 -h 64 "src/tray-$state.svg" -o "tray/$state.png"
done
