# Entry points for users and CI. `make test` is the command CI runs.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
SCALE ?= 3
JOBS ?= $(shell nproc)
# make chaos: at least DURATION seconds of faults under load, on MODE=local (processes) or compose.
DURATION ?= 60
MODE ?= local
# PORT=P: the local port of the load balancer for launch and kind-up (default 8080).
PORT ?=

.PHONY: all deps build test clean images launch down status generate kind-up kind-down e2e k8s-e2e compose-v2 bench bench-deps fuzz chaos

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

# libFuzzer over the code that reads untrusted input (clang-14, not needed by `make test`;
# docs/HARDENING.md). FUZZ_SECONDS is the total, shared by the targets.
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# Docker targets. None of them is needed by `make test`.
images:
	@docker/build-images.sh

launch:
	@./launch-env $(SCALE) $(if $(PORT),--port $(PORT))

down:
	@./launch-env down

status:
	@./launch-env status

# The Compose file and the Kubernetes manifests for SCALE clusters, into .run/generated/ (the
# checked-in compose/ and k8s/ files are for N=3: generator/regenerate.sh rewrites them).
generate:
	@mkdir -p .run/generated
	generator/generate --target compose --replicas $(SCALE) --output .run/generated/docker-compose.yml
	generator/generate --target kind --replicas $(SCALE) --output .run/generated/consult-db.yaml

kind-up:
	@scripts/kind-env.sh up $(SCALE) $(PORT)

kind-down:
	@scripts/kind-env.sh down

# Optional: the Compose v2 plugin on Debian 12 (root), from Debian 13's package; either version works.
compose-v2:
	@scripts/install-compose-v2.sh

# The end-to-end test of the Compose mode (.ci/run runs it after make test).
e2e:
	@docker/build-images.sh
	timeout -k 30 900 tests/e2e/compose_e2e.sh

# The end-to-end test of the Kubernetes mode on the cluster KUBECONFIG names (kind: make kind-up's
# cluster, without its namespace: make kind-down first; CI: scripts/k8s-local.sh up). docs/DEPLOY.md.
k8s-e2e:
	timeout -k 30 1200 tests/e2e/k8s_e2e.sh

# Benchmarks (docs/BENCHMARKS.md): figures, not tests; CI does not run them. Settings by environment,
# e.g. DURATION=3 PAIRS=1 KILLS=2 BENCH_COMPOSE=0 make bench (bench/run.sh lists them all).
bench-deps:
	@scripts/deps.sh bench/apt-packages.txt

bench: build bench-deps
	@bench/run.sh

# Fault injection under load (docs/CHAOS.md): launches its own system, prints a table, exits 1 when
# an acknowledged write is lost or a read or a request time is wrong. It bounds itself in time.
chaos: build
	$(BUILD_DIR)/tests/chaos/chaos --mode $(MODE) --duration $(DURATION)
