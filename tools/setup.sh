#!/usr/bin/env bash
# Makes sure this machine can build Onboard: the Swift toolchain and the Debian packages for
# OpenBLAS and libjpeg-turbo, plus any Debian packages named as arguments (tools/test-arm64.sh
# names its cross compiler and emulator). Installs missing packages when run as root; otherwise
# prints the apt-get line and fails.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
    echo "onboard setup: no 'swift' on PATH; install the Swift 6 toolchain (swift.org) first" >&2
    exit 1
fi

missing=()
for package in libopenblas-dev libjpeg-dev "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        echo "onboard setup: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "onboard setup: missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
