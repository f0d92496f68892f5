#!/usr/bin/env bash
# A sharded trm-run evaluation on a real Slurm cluster on this machine: munged, slurmctld and two
# slurmd (fake nodes trm1, trm2 on 127.0.0.1, distinct ports) started in the foreground as
# background jobs of this script, examples/slurm/submit.sh runs each case as an array job plus an
# afterok merge job, and the merged pass@K (and, for ARC, submission.json) must equal the
# single-process run's byte for byte. Every daemon is stopped by its PID on exit, munged last,
# also on failure. Needs root (the daemons run as root) and the Debian packages
# slurmctld slurmd slurm-client munge (installed when missing).
#
#   tools/slurm_test.sh BIN_DIR        (BIN_DIR holds trm-run, trm-train, trm-compile)
set -euo pipefail
BIN=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARDS=${SHARDS:-4}
if [ "$(id -u)" != 0 ]; then
  echo "slurm_test: SKIPPED: needs root (the daemons run as root, as on CI)"
  exit 0
fi

missing=""
for p in slurmctld slurmd slurm-client munge; do dpkg -s $p >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "slurm_test: installing$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

WORK=$(mktemp -d /tmp/trm-slurm.XXXXXX)
DAEMONS=()     # slurmd and slurmctld PIDs, stopped in reverse order
MUNGED=""
ok=0
stop() {  # stop PID: TERM, up to 10 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  # slurmd's own children (slurmstepd of a job that just ended) are stopped by PID after it.
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    children=$(pgrep -P "${DAEMONS[$i]}" || true)
    stop "${DAEMONS[$i]}"
    for c in $children; do stop "$c"; done
  done
  [ -n "$MUNGED" ] && stop "$MUNGED"
  if [ "$ok" = 1 ]; then rm -rf "$WORK"; else
    echo "slurm_test: FAILED; logs:"
    for f in "$WORK"/log/* "$WORK"/jobs/*.out; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"/{munge,state,spool,log,jobs,data}
# Three free ports on 127.0.0.1 (slurmctld, trm1, trm2).
read -r CTLD_PORT PORT1 PORT2 < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

# munged with its own key and socket.
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
SOCKET=$WORK/munge/munge.socket
munged -F --force --key-file="$WORK/munge/munge.key" --socket="$SOCKET" --pid-file="$WORK/munge/munged.pid" \
  --log-file="$WORK/log/munged.log" --seed-file="$WORK/munge/munged.seed" >"$WORK/log/munged.out" 2>&1 &
MUNGED=$!
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || { echo "slurm_test: munged did not start"; exit 1; }

export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=trmtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool/%n
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd-%n.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
NodeName=trm1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$PORT1 CPUs=1 State=UNKNOWN
NodeName=trm2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$PORT2 CPUs=1 State=UNKNOWN
PartitionName=test Nodes=trm1,trm2 Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
DAEMONS+=($!)
for n in trm1 trm2; do
  slurmd -D -N "$n" -f "$SLURM_CONF" >"$WORK/log/slurmd-$n.out" 2>&1 &
  DAEMONS+=($!)
done
start=$(date +%s)
until [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c idle)" = 2 ]; do
  [ $(($(date +%s) - start)) -lt 90 ] || { echo "slurm_test: the nodes did not come up"; sinfo -N 2>&1 || true; exit 1; }
  sleep 1
done
echo "slurm_test: cluster up in $(($(date +%s) - start)) s: $(sinfo -h -N -o '%N:%t' | tr '\n' ' ')"

# The models and data: a trained Sudoku 6×6 model on a generated test set, and a fresh ARC model on
# an ARC JSON file of random puzzles whose output head favours colours (so its answers decode and vote).
"$BIN/trm-compile" "$ROOT/models/sudoku6-tr-mamba2attn.ckpt" -o "$WORK/data/sudoku.trmg" -q
"$BIN/trm-train" init --preset trm-attn --task arc --hidden 32 --heads 4 --h-cycles 1 --l-cycles 1 --halt-max-steps 3 \
  --puzzle-emb-len 2 -o "$WORK/data/arc.ckpt" >/dev/null
python3 - "$WORK/data" <<'PY'
import json, random, struct, sys
d = sys.argv[1]
b = open(f"{d}/arc.ckpt", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = bytearray(b[8 + n:])
t = h["lm_head.weight"]; s, e = t["data_offsets"]; v, w = t["shape"]
vals = list(struct.unpack(f"<{v * w}f", data[s:e]))
vals = [0.0 if i < 2 * w else x * 20 for i, x in enumerate(vals)]
data[s:e] = struct.pack(f"<{v * w}f", *vals)
open(f"{d}/arc.ckpt", "wb").write(b[:8 + n] + bytes(data))
rng = random.Random(1)
grid = lambda r, c: [[rng.randrange(10) for _ in range(c)] for _ in range(r)]
puzzle = lambda i: {"train": [{"input": grid(2, 2), "output": grid(2, 2)}],
                    "test": [{"input": grid(3, 4), "output": grid(3, 4)} for _ in range(1 + i % 2)]}
json.dump({"train": {"t": puzzle(0)}, "eval": {f"p{i}": puzzle(i) for i in range(6)}}, open(f"{d}/arc.json", "w"))
PY
"$BIN/trm-compile" "$WORK/data/arc.ckpt" -o "$WORK/data/arc.trmg" -q

export TRM_RUN=$BIN/trm-run
cd "$WORK/jobs"
run_case() {  # name, model, trm-run task options...
  local name=$1 model=$2
  shift 2
  "$BIN/trm-run" "$model" "$@" -q --threads 2 --json "$WORK/$name-single.json" \
    $([ "$name" = arc ] && echo --submission "$WORK/$name-single.sub")
  read -r array merge < <("$ROOT/examples/slurm/submit.sh" "$SHARDS" "$model" "$WORK/$name" "$@" -q)
  echo "slurm_test: $name: array job $array ($SHARDS shards), merge job $merge (afterok)"
  local t0=$(date +%s)
  while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do
    [ $(($(date +%s) - t0)) -lt 600 ] || { echo "slurm_test: $name: jobs did not finish"; squeue; exit 1; }
    sleep 1
  done
  local state
  state=$(scontrol show job "$merge" | grep -o 'JobState=[A-Z]*')
  [ "$state" = JobState=COMPLETED ] || { echo "slurm_test: $name: merge job $state"; exit 1; }
  "$BIN/trm-run" status "$WORK/$name"/shard-*.cand
  python3 - "$WORK/$name-single.json" "$WORK/$name/passk.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["pass_at_k"] for p in sys.argv[1:])
assert a == b, f"pass@K differ: single {a}, merged {b}"
print(f"slurm_test: pass@K of the merge = the single run's: {a}")
PY
  if [ "$name" = arc ]; then
    cmp "$WORK/$name-single.sub" "$WORK/$name/submission.json"
    echo "slurm_test: submission.json of the merge = the single run's, byte for byte ($(wc -c < "$WORK/$name/submission.json") bytes)"
  fi
}
run_case sudoku "$WORK/data/sudoku.trmg" --task sudoku --limit 40 --num-aug 3 --seed 7 --batch 16
run_case arc "$WORK/data/arc.trmg" --task arc --data "$WORK/data/arc.json" --num-aug 3 --batch 4
ok=1
echo "slurm_test: passed"
