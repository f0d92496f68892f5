#!/bin/bash
# Submits a sharded evaluation: an array of SHARDS shard tasks and a merge job that starts when all
# of them succeeded (afterok).
#
#   examples/slurm/submit.sh SHARDS MODEL.trmg OUTDIR [trm-run task options, e.g. --task arc --data data/arc/arc1.json]
#
# Prints the two job ids. `trm-run status OUTDIR/shard-*.cand` shows the progress meanwhile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=$1 model=$2 out=$3
shift 3
array=$(sbatch --parsable --array=0-$((shards - 1)) "$here/shards.sbatch" "$model" "$out" "$@")
outputs=(--json "$out/passk.json")
case " $* " in *" --task arc "*) outputs+=(--submission "$out/submission.json") ;; esac
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch" "$out" "${outputs[@]}")
echo "$array $merge"
