# The two commands of the README:
#   make run   — set up (first time: a few minutes) and start 金小二 with SQLite, local models and a supervised Rasa
#   make test  — the whole test suite (what CI runs)
.PHONY: run test setup bench validate

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/jinxiaoer serve

test:
	bash scripts/test.sh

validate: setup
	.venv/bin/jinxiaoer kb validate
	RASA_TELEMETRY_ENABLED=false .venv-rasa/bin/rasa data validate --domain domain --data data

bench:
	bash scripts/install-balancer.sh
	.venv/bin/python -m bench
