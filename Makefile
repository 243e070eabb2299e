# The README's two commands: `make demo` and `make test`. Both install what is missing.
BUILD ?= build
VENV ?= .venv
CMAKE_FLAGS ?=

.PHONY: deps build demo test bench clean

deps:
	@bash scripts/install_deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)

test: build
	@bash scripts/run_tests.sh

demo: build
	@bash scripts/demo.sh

bench: build
	@bash bench/run.sh

clean:
	rm -rf $(BUILD)
