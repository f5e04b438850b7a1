#!/usr/bin/env bash
# scripts/soak.sh N [pytest arguments…]
# Run the test suite N times in a row (default 10) while another process keeps one CPU core busy, the way a
# loaded shared machine would; write one line per run (PASS/FAIL, exit code, seconds, pytest's summary) to
# artifacts/soak.txt and each run's output to artifacts/soak/run-<i>.log. Exit 0 only when every run passed.
# Extra arguments go to pytest (e.g. a subset: scripts/soak.sh 1 tests/preservice).
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:-10}
shift || true
case "$n" in ''|*[!0-9]*) echo "usage: scripts/soak.sh N [pytest arguments…]" >&2; exit 2 ;; esac

mkdir -p artifacts/soak
out=artifacts/soak.txt
python3 -c 'while True: pass' &
burner=$!
trap 'kill "$burner" 2>/dev/null' EXIT INT TERM

{
  echo "soak: $n run(s) of scripts/test.sh ${*:-(whole suite)} with one core kept busy (pid $burner)"
  echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out"

passed=0
for i in $(seq 1 "$n"); do
  log="artifacts/soak/run-$i.log"
  t0=$(date +%s)
  bash scripts/test.sh "$@" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - t0 ))
  summary=$(grep -E '[0-9]+ (passed|failed|errors?|xfailed)\b.* in [0-9.]+s' "$log" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//')
  parts=$(grep -E '^real parts:' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then verdict=PASS; passed=$((passed + 1)); else verdict=FAIL; fi
  echo "run $i: $verdict (exit $rc, ${secs} s) ${summary:-no pytest summary: see $log}" | tee -a "$out"
  [ -n "$parts" ] && echo "    $parts" >> "$out"
  if [ "$verdict" = FAIL ]; then
    grep -E '^(FAILED|ERROR) ' "$log" | head -20 | sed 's/^/    /' >> "$out"
  fi
done
echo "soak: $passed/$n runs passed, finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee -a "$out"
[ "$passed" -eq "$n" ]
