# syntax=docker/dockerfile:1
#
# The rekor-gate step image: the CLI bundled by esbuild into one file, run by a distroless Node 24
# (no shell, no package manager) as the non-root user 65532.
#
# Pin both base images by digest for a release, e.g.
#   docker buildx build \
#     --build-arg BUILD_IMAGE=node:24-bookworm@sha256:<digest> \
#     --build-arg RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot@sha256:<digest> \
#     -t <registry>/rekor-gate:<version> --push .
# (docs/tekton.md, "Building and pinning the image").
ARG BUILD_IMAGE=node:24-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/build.ts
COPY schemas/ schemas/
COPY src/ src/
RUN npm run build && rm -f dist/cli.js
# The bundle must run on its own: no node_modules beside it in the final image.
RUN cd /tmp && cp /src/dist/rekor-gate.js /tmp/rekor-gate.js && node /tmp/rekor-gate.js --help > /dev/null

FROM ${RUNTIME_IMAGE}
COPY --from=build /src/dist/ /app/
USER 65532:65532
ENV NODE_ENV=production \
    HOME=/tmp
ENTRYPOINT ["/nodejs/bin/node", "/app/rekor-gate.js"]
CMD ["--help"]
