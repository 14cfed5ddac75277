#!/usr/bin/env bash
# Installs what citywatch needs on a fresh Debian machine: system packages (when run as root or
# with sudo), a virtual environment in .venv and the package with the extras named in the first
# argument (default: none, the runtime alone; the tests use "dev,train").
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev            # the interpreter and venv
  libgl1 libglib2.0-0                         # OpenCV's shared libraries
  python3-gi gir1.2-gst-rtsp-server-1.0       # the real RTSP server the tests start
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  chromium chromium-driver fonts-thai-tlwg     # the dashboard's browser tests, with a Thai font
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
EXTRAS="${1:-}"
# constraints.txt pins every package to the version the tests and docs/ numbers were last run with.
.venv/bin/python -m pip install -q -c constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
