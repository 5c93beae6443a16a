# The verbs of eightfold.devops. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

# The collection is found under its FQCN through a symlink, so playbooks, Molecule and ansible-lint all
# run the working tree as eightfold.devops.
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 1
export PY_COLORS ?= 1

.PHONY: help prereqs venv images ee lab-up lab-down demo lint sanity unit molecule bench test clean

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

prereqs: ## install the Docker engine and image tools (Debian, root) and start dockerd
	@tools/prereqs.sh

venv: $(VENV)/.installed .collections/ansible_collections/eightfold/devops ## Python tools, pinned by constraints.txt

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

.collections/ansible_collections/eightfold/devops:
	mkdir -p $(@D)
	ln -sfn ../../.. $@

images: prereqs ## build the Debian 12 and 13 host images (skipped when current)
	@tools/build-images.sh

ee: venv images ## build the execution environment image eightfold/ee (skipped when current)
	@tools/build-ee.sh

lab-up: venv images ## create the lab hosts (inventories/lab) as containers
	ansible-playbook playbooks/lab.yml

lab-down: venv ## remove the lab hosts and their network
	ansible-playbook playbooks/lab_down.yml

demo: prereqs venv images ## bring the lab up, converge it with site.yml, print a summary
	$(BIN)/python tools/demo.py

lint: venv ## ansible-lint (production profile), yamllint, ruff
	yamllint --strict .
	ansible-lint
	ruff check .
	ruff format --check .

sanity: venv ## ansible-test sanity on the plugins
	tools/sanity.sh

unit: venv images ## pytest unit tests (some run real containers of the host images)
	pytest

molecule: venv images ## every Molecule scenario (two at a time), or one: make molecule SCENARIO=base
	tools/molecule.sh $(if $(filter command line,$(origin SCENARIO)),$(SCENARIO))

bench: venv images ## benchmarks (results go to docs/performance.md)
	@for b in bench/*.sh; do echo "== $$b"; $$b; done

test: lint sanity venv images ## everything CI runs (unit tests and Molecule side by side)
	tools/test.sh

clean: ## remove the venv and caches (not the images)
	rm -rf $(VENV) .collections .cache .pytest_cache .ruff_cache
