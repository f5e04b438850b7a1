#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit tests, real-Rasa integration tests, real-browser tests, real ASR,
# and the database tests on SQLite and on the PostgreSQL at 127.0.0.1:5432 (database `test`).
set -uo pipefail
cd "$(dirname "$0")/.."

# services this suite needs (the machine normally starts them; start them if they are down)
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
# Redis for the rate-limit tests on the shared counter store (tests/assistant/test_rate_limits.py)
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if ! command -v redis-server >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
      || { echo "test: could not install redis-server" >&2; exit 1; }
  fi
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >/dev/null \
    || { echo "test: could not start redis-server" >&2; exit 1; }
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v ffmpeg >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wqy; then
  echo "test: installing Debian's chromium and ffmpeg (browser and audio tests need them)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg espeak-ng fonts-wqy-microhei fonts-noto-color-emoji >/dev/null) \
    || { echo "test: could not install chromium/ffmpeg" >&2; exit 1; }
fi

# HAProxy for the cluster tests and benchmarks (jinxiaoer cluster up)
bash scripts/install-balancer.sh || { echo "test: could not install haproxy" >&2; exit 1; }

bash scripts/setup.sh || exit 1

# required parts: one clear message and a failed run (never a suite that silently leaves a tier out)
missing=()
[ -d ../shared/eval ] && [ -d ../shared/data ] || missing+=("../shared beside the repository (evaluation set and source exports)")
[ -x .venv-rasa/bin/rasa ] || missing+=(".venv-rasa (the Rasa server's venv: scripts/setup.sh)")
pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || missing+=("PostgreSQL on 127.0.0.1:5432")
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: REQUIRED PARTS MISSING — the suite would not prove what it claims without them:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

export RASA_TELEMETRY_ENABLED=false
export JXE_TEST_POSTGRES_URL=${JXE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
mkdir -p artifacts
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "test: pytest collected no tests" >&2; exit 1; fi
exit $rc
