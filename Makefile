# The README's two set-up commands. Each installs what it needs first (idempotent).
#   make demo   the whole pipeline on a private PostgreSQL and the TikTok API simulator
#               (or on your database / real TikTok account when PG* / TAP_TIKTOK_ADS_* are set)
#   make test   ruff, mypy and the whole pytest suite on a private PostgreSQL
# Pass pytest arguments with PYTEST_ARGS, e.g. `make test PYTEST_ARGS="-m e2e -x"`.

.PHONY: install demo test bench clean

PYTEST_ARGS ?=
SIZE ?= small

install:
	scripts/bootstrap.sh

demo: install
	.venv/bin/python -m devstack.demo

test: install
	scripts/test.sh $(PYTEST_ARGS)

# Performance figures (docs/performance.md): make bench SIZE=small|large
bench: install
	.venv/bin/python -m benchmarks --size $(SIZE)

# Removes local state: plugin venvs, Meltano's system database, private PostgreSQL clusters.
clean:
	-.venv/bin/python -m devstack.postgres stop --dir .local/pg-demo
	-.venv/bin/python -m devstack.postgres stop --dir .local/pg-test
	rm -rf .meltano .local transform/target transform/logs
