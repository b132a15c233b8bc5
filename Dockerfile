# agentguard sidecar image. Multi-stage: the build stage compiles TypeScript and better-sqlite3 (no prebuilt binary is
# downloaded), the runtime stage holds only production dependencies and runs as the unprivileged `node` user.
# Build: docker build -t agentguard .   Run: see deploy/docker-compose.yml and docs/fleet.md#containers.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    AGENTGUARD_DATA_DIR=/data \
    AGENTGUARD_CACHE_DIR=/data/cache \
    NO_COLOR=1
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root schemas ./schemas
COPY --chown=root:root templates ./templates
COPY --chown=root:root policies ./policies
COPY --chown=root:root models ./models
COPY --chown=root:root prices ./prices
# The data folder (signing key, pid file, log; the SQLite database when no store URL is given) belongs to `node`.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 7777
# Liveness: the process serves HTTP. (Readiness, /readyz, also checks the store: use it for load balancers.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7777/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Listens on every interface inside the container (the network is the container's); every /v1 route needs a token.
# The store is AGENTGUARD_STORE_URL (from a secret); the policy is the one pushed to it (agentguard policy push).
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["sidecar", "start", "--host", "0.0.0.0", "--allow-remote", "--port", "7777", "--policy-from-store"]
