# archiver: the two commands a fresh machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup demo test bench clean

# setup.py's COMPILED modules are built into the tree: edit one, and the next make rebuilds it.
COMPILED := $(shell sed -n 's/^    "\(archiver\/.*\.py\)",$$/\1/p' setup.py)

$(STAMP): pyproject.toml setup.py $(COMPILED)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)  ## crawl the bundled offline demo into data/demo.db and print a summary
	$(BIN)/python -m archiver.demo

test: $(STAMP)  ## the whole test suite (what CI runs)
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## benchmarks under bench/ (speed and memory; never timed assertions in tests); BENCH_ARGS=--large adds 100,000 articles
	$(BIN)/python -m compileall -q archiver  # bytecode as an installed package has it (PYTHONDONTWRITEBYTECODE)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data/demo.db data/demo.db-* .pytest_cache build
	find . -name '*.so' -not -path './.venv/*' -delete  # setup.py's compiled modules, built in place
