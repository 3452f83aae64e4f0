#!/usr/bin/env bash
# Tests/Fixtures/delta-v3: a version 3 delta file (one entry per tensor, as Onboard wrote until the
# packed version 4) with the base and fine-tuned weights it was made from, so that the tests prove
# old files still apply and that the version 3 reader refuses tampered ones.
# The delta is written by onboard at commit d59728f (the last that wrote version 3), built in a
# scratch worktree:  tools/make_delta_v3_fixture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/Fixtures/delta-v3
scratch=$(mktemp -d)
trap 'git worktree remove --force "$scratch/src" 2>/dev/null || true; rm -rf "$scratch"' EXIT
git worktree add --detach "$scratch/src" d59728f >/dev/null
(cd "$scratch/src" && swift build -c release --product onboard >/dev/null)
mkdir -p "$out"
python3 - "$out" <<'PY'
import json, random, struct, sys
# w [64, 64]: base ~ N(0, 0.1), fine-tuned = base + N(0, 0.01); a bias [64] left unchanged.
rng = random.Random(3)
base = [rng.gauss(0, 0.1) for _ in range(64 * 64)]
tuned = [v + rng.gauss(0, 0.01) for v in base]
bias = [rng.gauss(0, 0.1) for _ in range(64)]
def write(path, w):
    header = json.dumps({"bias": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]},
                         "w": {"dtype": "F32", "shape": [64, 64], "data_offsets": [256, 256 + 4 * len(w)]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + struct.pack("<64f", *bias) + struct.pack("<%df" % len(w), *w))
write(sys.argv[1] + "/base.safetensors", base)
write(sys.argv[1] + "/tuned.safetensors", tuned)
PY
"$scratch/src/.build/release/onboard" delta compress --base "$out/base.safetensors" --finetuned "$out/tuned.safetensors" \
    --ratio 8 --out "$out/delta.safetensors" >/dev/null
