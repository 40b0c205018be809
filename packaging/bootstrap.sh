#!/usr/bin/env bash
# Set up StyleNet Studio on Debian/Ubuntu: system libraries (FluidSynth, what Qt needs headless and on a
# Wayland or X11 display), a .venv with the pinned packages. Idempotent and quick when nothing changed.
#   bash packaging/bootstrap.sh          # runtime
#   bash packaging/bootstrap.sh --dev    # + test and lint tools, Xvfb and Weston
set -euo pipefail
cd "$(dirname "$0")/.."

# fluid-soundfont-gm: FluidR3_GM (145 MB) becomes the default soundfont instead of the 6 MB TimGM6mb that
# libfluidsynth3 brings. Its piano is the better one, and the card's and README's audio figures were measured
# with it: the two pianos give the same render different loudness ranges.
SYSTEM_PACKAGES=(libfluidsynth3 fluid-soundfont-gm libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0)
# What Qt's xcb and Wayland plugins need to open the window (app/ui/display_check.py lists the same; without
# them Qt aborts). A desktop often has them from other programs; a minimal system does not.
SYSTEM_PACKAGES+=(libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-randr0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libxkbcommon-x11-0 libx11-xcb1 libwayland-client0 libwayland-cursor0)
# --dev: an X server and a Wayland compositor without a screen, so the tests open the real window on each
# (tests/test_window_display.py)
[ "${1:-}" = "--dev" ] && SYSTEM_PACKAGES+=(xvfb xauth weston)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  # "ii" = installed; a removed package keeps "rc" (its config files), which dpkg -s would count as there
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" = "ii " ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.installed-$(cat requirements.txt "$requirements" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "installing Python packages from $requirements into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  touch "$stamp"
fi
