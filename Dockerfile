# consult-db images, built once from one builder stage:
#   consult-db-slave  the slave, redis-server, redis-run and cluster-run (one cluster per container on Compose;
#                     two containers of this image per pod on Kubernetes)
#   consult-db-lb     the load balancer
# Build with `make images` (docker/build-images.sh), which creates the base image when no registry is
# reachable. Written for the classic builder too: no `# syntax=` line, no RUN heredocs.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS builder
# Marks the builder's untagged images, which docker/build-images.sh prunes down to the newest one.
LABEL org.consult-db.stage=builder
# Only the services' own build packages: CDB_ONLY_SERVICES leaves the generator, the tests and the
# benchmarks (yaml-cpp, GoogleTest, cpp-httplib) out of the build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config libpistache-dev \
      libhiredis-dev rapidjson-dev libspdlog-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole source tree (.dockerignore keeps local builds and state out).
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCDB_ONLY_SERVICES=ON \
 && cmake --build build -j "$(nproc)" --target slave lb \
 && strip build/services/slave/slave build/services/lb/lb

# What both services need at run time (ldd of the binaries; neither uses yaml-cpp) and the user
# they run as. 10001 is also the runAsUser of the Kubernetes manifests.
FROM ${BASE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpistache0 libhiredis0.14 libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 10001 consult-db \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin consult-db
# Both binaries exit within ~100 ms on SIGTERM; Compose and Kubernetes also send it.
STOPSIGNAL SIGTERM

FROM runtime AS consult-db-lb
COPY --from=builder /src/build/services/lb/lb /usr/local/bin/lb
USER 10001:10001
EXPOSE 8080
# The binary probes its own port: the image has no curl.
HEALTHCHECK --interval=2s --timeout=1s --start-period=5s --retries=3 CMD ["lb", "--probe", "/lb/healthz"]
CMD ["lb"]

FROM runtime AS consult-db-slave
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /var/log/redis
COPY --from=builder /src/build/services/slave/slave /usr/local/bin/slave
COPY docker/cluster-run docker/redis-run docker/await-handover /usr/local/bin/
USER 10001:10001
EXPOSE 8080 6379
HEALTHCHECK --interval=2s --timeout=1s --start-period=5s --retries=3 CMD ["slave", "--probe", "/healthz"]
CMD ["cluster-run"]
