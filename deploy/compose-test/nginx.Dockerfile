# A stand-in for the official nginx image, for scripts/compose-test: nginx from Debian's packages on
# the imported Debian base, with an `nginx` user (deploy/nginx.conf runs as it), wget for
# compose's health check, and the logs on the container's output as the official image has them.
ARG BASE=tierdesk-test/debian:bookworm
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends nginx-light wget \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin nginx \
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
