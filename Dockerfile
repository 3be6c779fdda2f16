# syntax=docker/dockerfile:1
#
# The rekor-gate step image: Node 24 and the bundled CLI on `scratch`, with only the Debian libraries Node loads,
# CA roots and time zones; no shell, no package manager; user 65532 (nonroot). Built the way distroless builds
# its images, by one script: scripts/image-rootfs.ts (apt-get download + dpkg-deb -x, then only what Node needs).
#
#   docker build -t rekor-gate .        or        buildah bud -t rekor-gate .
#
# `npm run image` (scripts/image.ts) runs that same script on a Debian 12 host and gives its output to this file
# in place of the build stage (`buildah bud --build-context build=<dir>`): the final stage below is then built
# exactly as here, from the same files. For a release, pin the build image by digest:
#   --build-arg BUILD_IMAGE=node:24-bookworm@sha256:<digest>
ARG BUILD_IMAGE=node:24-bookworm

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The apt lists that `apt-get download` reads (the packages come from this image's Debian release).
RUN apt-get update -qq
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/image-rootfs.ts scripts/
COPY schemas/ schemas/
COPY src/ src/
RUN npm run build && node scripts/image-rootfs.ts /rootfs --debs /tmp/debs

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
ENV HOME=/tekton/home \
    NODE_ENV=production
ENTRYPOINT ["/nodejs/bin/node", "/app/rekor-gate.js"]
CMD ["--help"]
