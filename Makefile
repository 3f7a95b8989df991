# The README's two commands are `make demo` and `make test`; everything else is a helper.
# Each target creates the virtualenv it needs from PyPI: .venv from requirements-dev.txt,
# `make demo` only .venv-demo from requirements-demo.txt.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum requirements-dev.txt | cut -d' ' -f1)
PYTEST := $(BIN)/python -m pytest
XDIST  ?= -n 2
QUICK  ?=
TEST_PATHS := tests/unit tests/emulator/tests tests/integration tests/reliability

.PHONY: help link venv demo demo-fleet demo-venv test unit units emulator-test integration sanity lint docs changelog-lint bench compat clean mutate shuffle

help:
	@echo "make demo   - run the nightly compliance playbook against the bundled EM emulator"
	@echo "make demo-fleet - three EM emulators in one run and one fleet report (DEMO_ARGS=--wrong-password: one EM refuses)"
	@echo "make test   - run every test (unit, emulator, integration, quality gates)"
	@echo "make link   - link the checkout under .build/collections (ansible.cfg): ansible-doc from the repo root"
	@echo "make bench  - benchmark (QUICK=1 for the small CI variant)"
	@echo "make mutate - mutation check: do the unit tests fail on the faults they are named after?"
	@echo "make shuffle - every pytest suite in a random order (SEED=n to repeat one)"

# Link the checkout where ansible.cfg's collections_path looks (.build/collections), so the
# README's ansible-doc / ansible-playbook commands work from the repository root.
link:
	$(PYTHON) tests/collection_layout.py

venv: $(STAMP)

$(STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The demo has its own small virtualenv (requirements-demo.txt: ansible-core, requests, xmltodict,
# trustme), so a cold `make demo` does not wait for the QA toolchain `make test` needs.
DEMO_VENV  ?= .venv-demo
DEMO_BIN   := $(DEMO_VENV)/bin
DEMO_STAMP := $(DEMO_VENV)/.installed-$(shell cksum requirements-demo.txt | cut -d' ' -f1)

demo-venv: $(DEMO_STAMP)

$(DEMO_STAMP): requirements-demo.txt
	@echo "demo: creating $(DEMO_VENV)/ with what the demo needs (requirements-demo.txt: ansible-core, requests, xmltodict, trustme)"
	test -x $(DEMO_BIN)/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_BIN)/python -m pip install --disable-pip-version-check --progress-bar off -r requirements-demo.txt \
		| grep -E '^(Collecting|Successfully installed)' || true
	test -x $(DEMO_BIN)/ansible-playbook
	rm -f $(DEMO_VENV)/.installed-*
	touch $@

demo: $(DEMO_STAMP)
	$(DEMO_BIN)/python tools/demo.py

# Many EMs (issue 19): playbooks/fleet_compliance.yml over three emulators, one fleet report.
demo-fleet: $(DEMO_STAMP)
	$(DEMO_BIN)/python tools/demo_fleet.py $(DEMO_ARGS)

# Every test: the community quality gates (ansible-test sanity and units, ansible-lint,
# antsibull-docs, galaxy-importer, ansible-builder), the same sanity, units and a playbook smoke
# under ansible-core 2.16-2.18 (tools/compat.sh), the quick benchmark, then the pytest suites
# (unit, emulator, integration against the emulator) last, so their summary closes the output.
test: venv
	tools/ansible-test.sh sanity
	tools/ansible-test.sh units
	tools/quality.sh
	tools/compat.sh
	$(BIN)/python tests/performance/bench.py --quick
	$(PYTEST) $(XDIST) $(TEST_PATHS)

unit: venv
	$(PYTEST) tests/unit

emulator-test: venv
	$(PYTEST) $(XDIST) tests/emulator/tests

integration: venv
	$(PYTEST) $(XDIST) tests/integration

# Mutation check (tools/mutate.py): ~35 deliberate faults in the rules, the filter builder, the
# scrubber, the client's retry/logoff paths and the parser, each against its fast unit tests in
# a temporary copy of the tree (~30 s idle, ~2 min on a busy machine). MUTATE_ARGS=--slow adds the role's remediation
# mutants (integration tests, minutes). Not part of `make test`; score in docs/CONTRACTS.md.
mutate: venv
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

# Every pytest suite in a shuffled order (pytest-random-order; tests shuffled within each module
# and the modules among themselves). SEED=<n> repeats a run; the seed is printed at the start.
SEED ?= $(shell date +%s)
shuffle: venv
	$(PYTEST) $(XDIST) -p no:cacheprovider --random-order-bucket=module --random-order-seed=$(SEED) $(TEST_PATHS)

bench: venv
	$(BIN)/python tests/performance/bench.py $(if $(QUICK),--quick,)
	$(BIN)/python tests/performance/fleet_bench.py $(if $(QUICK),--quick,)

sanity: venv
	tools/ansible-test.sh sanity

units: venv
	tools/ansible-test.sh units

# ansible-core 2.16-2.18 (what meta/runtime.yml claims besides the 2.19 in .venv): sanity, units
# and an ansible-playbook/ansible-runner smoke against the emulator, each in .build/compat/<ver>.
# COMPAT_VERSIONS="2.17" to pick; needs only Python 3.11 and PyPI, not .venv.
compat:
	tools/compat.sh $(COMPAT_VERSIONS)

clean:
	rm -rf .build reports tests/output .pytest_cache $(DEMO_VENV)
