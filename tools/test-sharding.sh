#!/usr/bin/env bash
# The sharding recipes (Examples/sharding, tools/shard_ray.py) run on this machine as local
# processes: merged results equal the single run's, killed shards rerun, foreign parts refused.
# Builds onboard (release) and installs Ray from PyPI into a venv outside the repository
# ($ONBOARD_RAY_VENV, default $TMPDIR/onboard-venv-ray). Arguments go to tools/sharding_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${ONBOARD_RAY_VENV:-${TMPDIR:-/tmp}/onboard-venv-ray}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/requirements-ray.txt
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build -c release --product onboard >"$log" 2>&1; then
    tail -40 "$log" >&2
    exit 1
fi
"$venv/bin/python" tools/sharding_check.py --onboard .build/release/onboard "$@"
