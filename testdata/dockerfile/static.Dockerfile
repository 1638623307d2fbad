# static: Dockerfile converted from its LLB graph by `inceptionctl dockerfile static`.
# The files it copies are in its build context: `inceptionctl dockerfile static --context DIR`
# writes both. Build it with BuildKit's Dockerfile frontend, the base image from the engine's store:
#   buildctl build --frontend dockerfile.v0 --local context=DIR --local dockerfile=DIR --opt image-resolve-mode=local

# static: base docker.io/library/debian:bookworm
FROM debian:bookworm AS base-docker-io-library-debian

FROM base-docker-io-library-debian AS package-lists-fetched-once-for
# apt: package lists, fetched once for every image
ARG SOURCE_DATE_EPOCH=1704067200
RUN ["apt-get", "update"]

FROM base-docker-io-library-debian AS install-packages
# static: install packages
ARG DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH=1704067200
RUN --mount=type=bind,source=policy-rc-d-no-services-start/policy-rc.d,target=/usr/sbin/policy-rc.d \
    --mount=type=cache,id=inception-apt-cache-static,target=/var/cache/apt,sharing=locked \
    --mount=type=bind,from=package-lists-fetched-once-for,source=/var/lib/apt/lists,target=/var/lib/apt/lists,rw \
    ["/bin/sh", "-c", "{ apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\" || { apt-get update && apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\"; }; } && rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache /var/lib/dpkg/*-old /var/cache/debconf/*-old /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow- /etc/subuid- /etc/subgid- /etc/machine-id /var/lib/dbus/machine-id", "apt-install", "golang-go", "tini"]

FROM install-packages AS go-build-static-server
# static: go build static-server
ARG CGO_ENABLED=0 GOCACHE=/root/.cache/go-build GOPATH=/root/go GOPROXY=off GOTOOLCHAIN=local SOURCE_DATE_EPOCH=1704067200
WORKDIR /src
RUN --mount=type=cache,id=inception-go-build-static,target=/root/.cache/go-build \
    --mount=type=cache,id=inception-go-path-static,target=/root/go \
    --mount=type=bind,source=server-source,target=/src \
    ["go", "build", "-buildvcs=false", "-ldflags=-s -w", "-o", "/out/static-server", "main.go"]

FROM scratch AS static
# static: tini-static from the builder
COPY --from=install-packages /usr/bin/tini-static /usr/bin/tini-static
# static: assemble image
COPY passwd-and-group/ /
COPY --from=go-build-static-server /out/ /
COPY site/ /
LABEL org.opencontainers.image.base.name="docker.io/library/debian:bookworm" \
    org.opencontainers.image.description="Static site of the Inception stack: a Go file server in a scratch image, behind nginx at /site/" \
    org.opencontainers.image.source="https://github.com/inceptionctl/inception" \
    org.opencontainers.image.title="static"
EXPOSE 8080/tcp
WORKDIR /
USER nonroot
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --start-interval=200ms --retries=3 CMD ["/static-server", "-healthcheck"]
ENTRYPOINT ["/usr/bin/tini-static", "--"]
CMD ["/static-server", "-root", "/srv/site", "-addr", ":8080"]
