# Two commands do everything on a fresh machine (see README): `make repro` and `make test`.
# Both create .venv and install the pinned set first, once (re-done when pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup cluster repro repro-all store test test-fast lint format bench bench-cluster clean-venv pose-heavy

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "Setting up $(VENV) with the pinned environment (first time: about 1.5 min, 2.5 GB) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, from its pin: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@
	@echo "$(VENV) ready."

repro: setup            ## the main job: the shipped store restored, then every stage of dvc.yaml that is not up to date
	-python -m sfv.cli store restore   # a clone with outputs of its own keeps them: dvc repro sorts them out
	dvc repro

repro-all: setup        ## every output computed again from scratch (hours: every policy is trained anew)
	rm -rf data/policies data/morphology data/terrain runs/*/*/
	dvc repro --force

store: setup            ## this machine's outputs and trainings in progress into the shipped store (then commit it)
	python -m sfv.cli store save
	python tools/generated_blocks.py   # the README's and docs' figures, from the metrics and the store just saved

$(VENV)/.cluster: $(VENV)/.installed
	@echo "Adding the cluster extra (Ray) to $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	@touch $@

cluster: $(VENV)/.cluster   ## the optional cluster extra (Ray): rollout workers as Ray actors, `sfv cluster`

test: setup $(VENV)/.cluster lint  ## lint, then the full test suite, slow end-to-end checks included (what CI runs), Ray tests included
	SFV_REQUIRE_RAY=1 python -m pytest -m "slow or not slow"

lint: setup             ## ruff: the linter and the formatter's check (`make format` applies the formatter)
	ruff check .
	ruff format --check .

format: setup
	ruff format .
	ruff check --fix .

test-fast: setup        ## the default quick suite
	python -m pytest

bench: setup            ## speed figures, each against a peer measured in the same run (run alone: they time the cores)
	python bench/fk_throughput.py
	python bench/env_throughput.py
	dvc repro motion_library
	python bench/ppo_throughput.py
	python bench/render_throughput.py
	python bench/pose_throughput.py
	python bench/reconstruct_throughput.py

bench-cluster: cluster  ## rollouts on local worker processes against Ray actors, on a local two-node Ray cluster
	python bench/ray_throughput.py

clean-venv:
	rm -rf $(VENV)

pose-heavy: setup       ## BlazePose heavy for `pose.model: heavy` (npm package @mediapipe/pose, Apache-2.0), once
	python -m sfv.pose.models install-heavy
