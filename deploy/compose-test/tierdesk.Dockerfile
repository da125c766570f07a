# A stand-in for deploy/Dockerfile's image, for scripts/compose-test: the executables the test command
# built (debug symbols stripped), their resource bundles and the Swift runtime libraries they link, on
# the imported Debian base; a non-root user, as in the real image. The script stages the context.
ARG BASE=tierdesk-test/debian:bookworm
FROM ${BASE}
RUN useradd --user-group --create-home --system --skel /dev/null --home-dir /app tierdesk
COPY lib/ /
RUN ldconfig
WORKDIR /app
COPY --chown=tierdesk:tierdesk app/ /app/
RUN for exe in /app/*; do [ -f "$exe" ] && [ -x "$exe" ] || continue; \
      if ldd "$exe" | grep -q 'not found'; then ldd "$exe" >&2; exit 1; fi; done
USER tierdesk:tierdesk
ENTRYPOINT []
CMD ["./intake"]
