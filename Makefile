# ConCoord: `make demo` runs a local cluster with a client; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SEEDS ?= 1000
STEPS ?= 5000

.PHONY: venv system-deps demo test test-fast sim clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,baseline]'
	touch $@

venv: $(VENV)/.installed

system-deps:
	scripts/install-system-deps

demo: venv
	$(PY) scripts/demo.py

test: venv system-deps
	$(PY) -m pytest tests -q -p no:cacheprovider --timeout 300

test-fast: venv
	SIM_SEEDS=20 $(PY) -m pytest tests -q -p no:cacheprovider --timeout 300 --ignore tests/integration

sim: venv
	$(PY) -m tests.sim.run --seeds $(SEEDS) --steps $(STEPS)

clean:
	rm -rf $(VENV) build dist *.egg-info .hypothesis

# `make server` / `make client`: ConCoord as one zipapp in $(DIST) that runs with a plain python3
# (msgpack and dnspython inside); OBJECTS="/foo/counter.py ..." adds objects to it.
DIST ?= dist
OBJECTS ?=
BUNDLE_OBJECTS = $(foreach object,$(OBJECTS),--object $(object))

.PHONY: server client

server: venv
	$(PY) -m concoord bundle server -o $(DIST)/concoord-server.pyz $(BUNDLE_OBJECTS)

client: venv
	$(PY) -m concoord bundle client -o $(DIST)/concoord-client.pyz $(BUNDLE_OBJECTS)

# `make fuzz`: coverage-guided fuzzing (atheris) of the wire decoders (RUNS inputs) and of the
# DNS query handler (DNS_RUNS inputs); see scripts/fuzz.py.
RUNS ?= 1000000
DNS_RUNS ?= 200000

.PHONY: fuzz

fuzz: venv
	$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q atheris
	$(PY) scripts/fuzz.py wire -runs=$(RUNS) -print_final_stats=1
	$(PY) scripts/fuzz.py dns -runs=$(DNS_RUNS) -print_final_stats=1

# `make chaos DURATION=600`: random faults (kills, stops, partitions, whole-instance restarts)
# under recorded load, then a linearizability check of the whole history; see scripts/chaos.py.
DURATION ?= 600

.PHONY: chaos

chaos: venv
	$(PY) scripts/chaos.py --duration $(DURATION)
