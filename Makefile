# Two commands for a fresh clone:  `make run` (web chat on the bundled corpus)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test setup browser lint typecheck audit sample-pdf clean

run: setup
	$(PY) app.py $(ARGS)

# The audit runs after the tests, so that a failing audit does not hide their results.
test: setup browser lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory audit

# The browser test drives Debian's chromium (Playwright's own browser download does not work offline).
# As root (CI) it is installed here; otherwise the test is skipped with a message saying how to install it.
BROWSER_PKGS := chromium fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing $(BROWSER_PKGS) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PKGS) >/dev/null; \
	else echo "Note: chromium is missing; the browser test will be skipped (sudo apt-get install $(BROWSER_PKGS))"; fi

setup: $(STAMP)

# torch first, pinned, so that nothing pulls a CUDA build; then everything else at the locked versions.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(PY) -m ruff check rag ingest evals ui app.py tests scripts benchmarks

typecheck: setup
	$(PY) -m mypy rag ingest evals ui

# Known vulnerabilities of the pinned dependencies (pip-audit over requirements.lock; see scripts/audit.py):
# a known vulnerability fails; pins the vulnerability service cannot be asked about are counted in a warning
# (SECTORCHAT_AUDIT_STRICT=1 makes that a failure, for networks where the service is reachable).
audit: setup
	$(PY) scripts/audit.py requirements.lock

sample-pdf: setup
	$(PY) scripts/build_sample_filing.py

clean:
	rm -rf $(VENV) index .pytest_cache
