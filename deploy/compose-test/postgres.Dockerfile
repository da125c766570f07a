# A stand-in for the official postgres:15 image, for scripts/compose-test (no image registry is
# reachable there): PostgreSQL 15 from Debian's packages on the Debian base the script imports, behind
# an entrypoint that does what compose relies on of the official one (POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, their _FILE forms, POSTGRES_INITDB_ARGS, /docker-entrypoint-initdb.d, a data folder
# initialised once and kept).
ARG BASE=tierdesk-test/debian:bookworm
FROM ${BASE}
RUN export DEBIAN_FRONTEND=noninteractive \
    && mkdir -p /etc/postgresql-common/createcluster.d \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d \
    && chown postgres:postgres /var/run/postgresql && chmod 2777 /var/run/postgresql
# UTF-8, as the official image initialises its clusters (its en_US.utf8; Debian minbase has C.UTF-8).
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
