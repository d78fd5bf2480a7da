# The tickcast image used by docker-compose.yml (one image; the role comes from TICKCAST_ROLE).
# Not built here (no Docker engine on the development machine).
FROM node:20-bookworm
# The Kafka client builds from source against the system's librdkafka dependencies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN CKJS_LINKING=dynamic npm ci --omit=dev --no-audit --no-fund
COPY . .
ENTRYPOINT ["node", "bin/tickcast.js"]
CMD ["run"]
