# nginx: Dockerfile converted from its LLB graph by `inceptionctl dockerfile nginx`.
# The files it copies are in its build context: `inceptionctl dockerfile nginx --context DIR`
# writes both. Build it with BuildKit's Dockerfile frontend, the base image from the engine's store:
#   buildctl build --frontend dockerfile.v0 --local context=DIR --local dockerfile=DIR --opt image-resolve-mode=local

# nginx: base docker.io/library/debian:bookworm
FROM debian:bookworm AS base-docker-io-library-debian

FROM base-docker-io-library-debian AS package-lists-fetched-once-for
# apt: package lists, fetched once for every image
ARG SOURCE_DATE_EPOCH=1704067200
RUN ["apt-get", "update"]

FROM base-docker-io-library-debian AS nginx
# nginx: install packages
ARG DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH=1704067200
RUN --mount=type=bind,source=policy-rc-d-no-services-start/policy-rc.d,target=/usr/sbin/policy-rc.d \
    --mount=type=cache,id=inception-apt-cache-nginx,target=/var/cache/apt,sharing=locked \
    --mount=type=bind,from=package-lists-fetched-once-for,source=/var/lib/apt/lists,target=/var/lib/apt/lists,rw \
    ["/bin/sh", "-c", "{ apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\" || { apt-get update && apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\"; }; } && rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache /var/lib/dpkg/*-old /var/cache/debconf/*-old /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow- /etc/subuid- /etc/subgid- /etc/machine-id /var/lib/dbus/machine-id", "apt-install", "nginx", "libnginx-mod-http-cache-purge", "openssl", "tini", "curl"]
# nginx: drop default site, logs to stdout/stderr
RUN rm -rf /etc/nginx/sites-enabled/default && rm -rf /var/log/nginx/access.log && ln -s /dev/stdout /var/log/nginx/access.log && rm -rf /var/log/nginx/error.log && ln -s /dev/stderr /var/log/nginx/error.log
# nginx: add config layer
COPY config-and-entrypoint/ /
ENV DOMAIN_NAME=localhost \
    WORDPRESS_UPSTREAM=wordpress:9000 \
    ADMINER_UPSTREAM=adminer:9000 \
    STATIC_UPSTREAM=static:8080 \
    NGINX_PAGE_CACHE=1
LABEL org.opencontainers.image.base.name="docker.io/library/debian:bookworm" \
    org.opencontainers.image.description="HTTPS entry point of the Inception stack: nginx with TLS 1.2/1.3 in front of WordPress" \
    org.opencontainers.image.source="https://github.com/inceptionctl/inception" \
    org.opencontainers.image.title="nginx"
EXPOSE 443/tcp
VOLUME ["/var/www/html"]
WORKDIR /
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --start-interval=200ms --retries=3 CMD ["curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/nginx-entrypoint"]
CMD ["nginx", "-g", "daemon off;"]
