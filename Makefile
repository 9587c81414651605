# Two commands for a fresh clone:  `make run` (web chat on the bundled corpus)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test setup lint typecheck sample-pdf clean

run: setup
	$(PY) app.py $(ARGS)

test: setup lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

# torch first, pinned, so that nothing pulls a CUDA build; then everything else at the locked versions.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(PY) -m ruff check rag ingest evals app.py tests scripts

typecheck: setup
	$(PY) -m mypy rag ingest evals

sample-pdf: setup
	$(PY) scripts/build_sample_filing.py

clean:
	rm -rf $(VENV) index .pytest_cache
