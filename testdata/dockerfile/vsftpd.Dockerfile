# vsftpd: Dockerfile converted from its LLB graph by `inceptionctl dockerfile vsftpd`.
# The files it copies are in its build context: `inceptionctl dockerfile vsftpd --context DIR`
# writes both. Build it with BuildKit's Dockerfile frontend, the base image from the engine's store:
#   buildctl build --frontend dockerfile.v0 --local context=DIR --local dockerfile=DIR --opt image-resolve-mode=local

# vsftpd: base docker.io/library/debian:bookworm
FROM debian:bookworm AS base-docker-io-library-debian

FROM base-docker-io-library-debian AS package-lists-fetched-once-for
# apt: package lists, fetched once for every image
ARG SOURCE_DATE_EPOCH=1704067200
RUN ["apt-get", "update"]

FROM base-docker-io-library-debian AS install-packages
# vsftpd: install packages
ARG DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH=1704067200
RUN --mount=type=bind,source=policy-rc-d-no-services-start/policy-rc.d,target=/usr/sbin/policy-rc.d \
    --mount=type=cache,id=inception-apt-cache-vsftpd,target=/var/cache/apt,sharing=locked \
    --mount=type=bind,from=package-lists-fetched-once-for,source=/var/lib/apt/lists,target=/var/lib/apt/lists,rw \
    ["/bin/sh", "-c", "{ getent group ftp >/dev/null || groupadd --system --gid 995 ftp; } && { getent passwd ftp >/dev/null || useradd --system --no-log-init --uid 995 --gid 995 --no-create-home --home-dir /srv/ftp --shell /usr/sbin/nologin --comment 'ftp daemon' ftp; } && { apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\" || { apt-get update && apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io \"$@\"; }; } && rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache /var/lib/dpkg/*-old /var/cache/debconf/*-old /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow- /etc/subuid- /etc/subgid- /etc/machine-id /var/lib/dbus/machine-id", "apt-install", "vsftpd", "tini", "openssl", "netcat-openbsd"]

FROM install-packages AS vsftpd
# vsftpd: accounts on /run, nologin in /etc/shells
ARG SOURCE_DATE_EPOCH=1704067200
RUN ["/bin/sh", "-c", "set -eu\nmkdir -p /etc/vsftpd/accounts\nfor f in passwd shadow; do\n    cp -p /etc/$f /etc/vsftpd/accounts/$f\n    ln -sf /run/vsftpd/etc/$f /etc/$f\ndone\nfor s in /usr/sbin/nologin /sbin/nologin; do\n    if [ -x \"$s\" ]; then\n        grep -qxF \"$s\" /etc/shells || echo \"$s\" >>/etc/shells\n        exit 0\n    fi\ndone\necho \"no nologin program in /usr/sbin or /sbin\" >&2\nexit 1"]
# vsftpd: add config layer
COPY config-and-scripts/ /
ENV FTP_PASV_MIN=21100 \
    FTP_PASV_MAX=21110 \
    FTP_PASV_ADDRESS=127.0.0.1 \
    FTP_TLS=0 \
    FTP_OWNER_UID=33 \
    FTP_OWNER_GID=33
LABEL org.opencontainers.image.base.name="docker.io/library/debian:bookworm" \
    org.opencontainers.image.description="FTP access to the WordPress files of the Inception stack: vsftpd, passive mode, optional explicit FTPS" \
    org.opencontainers.image.source="https://github.com/inceptionctl/inception" \
    org.opencontainers.image.title="vsftpd"
EXPOSE 21/tcp 21100/tcp 21101/tcp 21102/tcp 21103/tcp 21104/tcp 21105/tcp 21106/tcp 21107/tcp 21108/tcp 21109/tcp 21110/tcp
VOLUME ["/var/www/html"]
WORKDIR /
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=6s --start-period=10s --start-interval=2s --retries=3 CMD ["/usr/local/bin/vsftpd-health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/vsftpd-entrypoint"]
CMD ["vsftpd", "/run/vsftpd/vsftpd.conf"]
