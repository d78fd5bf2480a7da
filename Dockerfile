# The tickcast image used by docker-compose.yml (one image; the role comes from TICKCAST_ROLE).
# No Docker engine runs on the development machine: `npm run test:docker` performs these steps in
# a temporary folder, starts the entrypoint, and checks that it serves the dashboard and the API.

# Build: all dependencies, because the dashboard (ui/dist, git-ignored) is built by vite, a
# devDependency; the dev ones are pruned once it is built.
FROM node:22-bookworm AS build
# The Kafka client builds from source against the system's librdkafka dependencies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN CKJS_LINKING=dynamic npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

# Runtime: the same Node major as the build (native modules), no compilers or headers: only the
# shared libraries the Kafka client links to, and the CA store its TLS reads.
FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends libssl3 zlib1g libzstd1 liblz4-1 libsasl2-2 libcurl4 ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Owned by node: the embedded store (TICKCAST_DB) is written under data/.
COPY --from=build --chown=node:node /app /app
USER node
ENTRYPOINT ["node", "bin/tickcast.js"]
CMD ["run"]
