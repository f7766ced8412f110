# Entry points for users and CI. `make test` is the command CI runs.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
SCALE ?= 3
JOBS ?= $(shell nproc)

.PHONY: all deps build test clean launch

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300

clean:
	rm -rf $(BUILD_DIR)

launch:
	@echo "make launch is not available yet: it comes with the load balancer and container issues." >&2
	@exit 1
