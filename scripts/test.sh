#!/usr/bin/env bash
# The whole test command (`make test`, run by .ci/run): lint, types and the full pytest suite
# against a private PostgreSQL that this script starts and always stops.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m e2e -x`; PYTEST_WORKERS sets how many
# pytest processes run files side by side (default 2, one per core; 0 for one process).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
PG_DIR=.local/pg-test
started=$(date +%s)
failed=()

step() { printf '\n==> %s\n' "$*"; }

scripts/ensure-chromium.sh

step "Starting a private PostgreSQL in ${PG_DIR}"
# A cluster left behind by an interrupted run is stopped and thrown away: tests start clean.
"$PY" -m devstack.postgres stop --dir "$PG_DIR" >/dev/null 2>&1 || true
rm -rf "$PG_DIR"
pg_env=$("$PY" -m devstack.postgres start --dir "$PG_DIR")
eval "$pg_env"
stop_postgres() {
  "$PY" -m devstack.postgres stop --dir "$PG_DIR" >/dev/null 2>&1 || true
  echo "PostgreSQL in ${PG_DIR} stopped."
}
trap stop_postgres EXIT
echo "PostgreSQL listening on ${PGHOST}:${PGPORT}"

run() {
  local name=$1
  shift
  step "$name: $*"
  if ! "$@"; then
    failed+=("$name")
  fi
}

run "ruff check" .venv/bin/ruff check .
run "ruff format" .venv/bin/ruff format --check .

mypy_targets=()
for dir in tap_tiktok_ads bridge/dra_tiktok_ads simulator/tiktok_sim devstack benchmarks; do
  if compgen -G "${dir}/*.py" >/dev/null || compgen -G "${dir}/**/*.py" >/dev/null; then
    mypy_targets+=("$dir")
  fi
done
run "mypy" .venv/bin/mypy "${mypy_targets[@]}"

# A hung test must not eat CI's 90 minutes: interrupt pytest (it then prints its summary)
# after PYTEST_TIMEOUT seconds, and kill it two minutes later if it still runs.
pytest_timeout=${PYTEST_TIMEOUT:-4500}
# Most tests wait on subprocesses (Meltano, tap, target, dbt), the simulator's rate limits or
# PostgreSQL, so two pytest workers keep two cores busy (PYTEST_WORKERS=0 runs in-process).
# Whole files go to one worker, so a module's simulator and database are built once; every
# test has its own database, Meltano system folder and dbt target, so workers never collide.
workers=(-n "${PYTEST_WORKERS:-2}" --dist loadfile)
step "pytest ${workers[*]} $* (time limit ${pytest_timeout}s)"
set +e
timeout --signal=INT --kill-after=120 "$pytest_timeout" "$PY" -m pytest "${workers[@]}" "$@"
pytest_rc=$?
set -e
case $pytest_rc in
  0) ;;
  5) echo "pytest collected no tests: the suite must run tests." >&2; failed+=("pytest (no tests)") ;;
  124 | 137) echo "pytest did not finish within ${pytest_timeout}s." >&2; failed+=("pytest (timeout)") ;;
  *) failed+=("pytest") ;;
esac

elapsed=$(($(date +%s) - started))
if [ ${#failed[@]} -gt 0 ]; then
  printf '\nFAILED after %ss: %s\n' "$elapsed" "${failed[*]}" >&2
  exit 1
fi
printf '\nAll checks passed in %ss.\n' "$elapsed"
