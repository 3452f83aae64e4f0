#!/bin/bash
# Submits SHARDS array tasks of shard-array.sbatch and the merge behind them:
#   submit.sh SHARDS [sbatch options for the array, e.g. --partition=cpu]
# The settings (TASK, MODEL, DATA, PARTS, OUT, ...) travel in the environment (--export=ALL); the
# logs go to the directory it is run from.
set -euo pipefail
here=$(dirname "$0")

shards=${1:?usage: submit.sh SHARDS [sbatch options]}
shift
if ! [[ $shards =~ ^[1-9][0-9]*$ ]]; then
    echo "submit.sh: SHARDS must be a positive integer, not '$shards'" >&2
    exit 2
fi
# --parsable prints "JOBID" or "JOBID;CLUSTER".
array_job=$(sbatch --parsable --array="0-$((shards - 1))" --export="ALL,SHARDS=$shards" "$@" "$here/shard-array.sbatch")
array_job=${array_job%%;*}
# afterok on an array waits for every task; if one fails, the merge is cancelled
# (--kill-on-invalid-dep) and is submitted again behind the rerun of that task.
merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes --export=ALL "$here/merge.sbatch")
echo "array job ${array_job} (${shards} tasks), merge job ${merge_job%%;*}"
