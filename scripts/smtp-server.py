#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for the tests, the benchmark and ./scripts/dev: every message it
accepts is written to --maildir as one .eml file (written aside, then renamed, so a reader never sees
half a file), with the envelope in two leading headers (X-Envelope-From, X-Envelope-To).

With --cert/--key it offers STARTTLS and requires it (or, with --implicit-tls, speaks TLS from the
first byte); with --user/--password it requires AUTH (PLAIN and LOGIN, or only --mechanisms), which it
offers only over TLS unless --allow-plain-auth; with --pipelining it offers PIPELINING. Prints "ready <port>" once it listens."""

import argparse
import asyncio
import itertools
import os
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Folder:
    def __init__(self, path, pipelining=False):
        self.path = path
        self.pipelining = pipelining
        self.counter = itertools.count(1)
        os.makedirs(path, exist_ok=True)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # aiosmtpd reads one command after another off the stream, so pipelined commands (RFC 2920)
        # are answered in order; it just does not say so.
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        name = "%d-%06d-%d" % (int(time.time() * 1000), next(self.counter), os.getpid())
        content = envelope.original_content or envelope.content
        head = ("X-Envelope-From: <%s>\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ", ".join("<%s>" % r for r in envelope.rcpt_tos))).encode()
        temporary = os.path.join(self.path, "." + name + ".tmp")
        with open(temporary, "wb") as f:
            f.write(head + content)
        os.rename(temporary, os.path.join(self.path, name + ".eml"))
        return "250 OK stored as " + name


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--allow-plain-auth", action="store_true")
    parser.add_argument("--pipelining", action="store_true", help="offer PIPELINING (RFC 2920) in EHLO")
    args = parser.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    wanted = {m.strip().upper() for m in args.mechanisms.split(",")}
    options = dict(hostname="smtp.test", data_size_limit=10 * 1024 * 1024)
    if context and not args.implicit_tls:
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        options.update(authenticator=authenticator, auth_required=True,
                       # aiosmtpd knows TLS only from STARTTLS: with implicit TLS every byte is encrypted anyway.
                       auth_require_tls=not (args.allow_plain_auth or args.implicit_tls),
                       auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in wanted])
    folder = Folder(args.maildir, args.pipelining)

    def factory():
        return SMTP(folder, **options)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, args.host, args.port, ssl=context if args.implicit_tls else None))
    print("ready %d" % args.port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
