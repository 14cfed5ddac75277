#!/usr/bin/env bash
# Sets up citywatch and runs the whole test suite (real PostgreSQL on localhost, real RTSP server,
# real models and videos from ../shared). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,train   # train: torch (CPU) and scikit-learn, so the training tests run too
.venv/bin/ruff check citywatch tests benchmarks
.venv/bin/lint-imports   # the layer contracts in pyproject.toml
.venv/bin/python -m pytest -q "$@"
