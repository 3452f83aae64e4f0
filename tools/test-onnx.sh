#!/usr/bin/env bash
# ONNX Runtime runs every model `onboard export-onnx` writes from the test bundles, FP32 and INT8
# (QDQ), and agrees with `onboard run` (tools/check_onnx_export.py --int8); the Q-PETR demo exported
# and scored through ORT on its held-out set matches Onboard INT8's mAP (tools/check_detector_onnx.py,
# release build). Installs onnxruntime from PyPI into a venv outside the
# repository ($ONBOARD_ONNX_VENV, default $TMPDIR/onboard-venv-onnx); builds onboard (debug).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${ONBOARD_ONNX_VENV:-${TMPDIR:-/tmp}/onboard-venv-onnx}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/requirements-onnx.txt
swift build --product onboard >/dev/null
"$venv/bin/python" tools/check_onnx_export.py --int8 --onboard .build/debug/onboard 2> >(grep -v 'W:onnxruntime' >&2)
if ! swift build -c release --product onboard >/dev/null 2>&1; then
    swift build -c release --product onboard 2>&1 | tail -40 >&2
    exit 1
fi
"$venv/bin/python" tools/check_detector_onnx.py --onboard .build/release/onboard > /dev/null 2> >(grep -v 'W:onnxruntime' >&2)
