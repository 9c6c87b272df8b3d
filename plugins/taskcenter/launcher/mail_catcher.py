"""The embedded default's mail server: accepts every message on loopback and keeps it as a file.

APP_EMAIL needs somewhere to send to on a machine with no mail server; this catcher keeps each
message it receives, as received, as `<outbox>/<UTC timestamp>-<uuid4 hex>.eml` (envelope sender
and recipients added as `X-Envelope-From` / `X-Envelope-To` headers, since Bcc recipients are not
in the message). Each file is written to a hidden temporary name and renamed, so a reader never
sees half a message. No authentication, no TLS: it listens on loopback only by default.

    python -m taskcenter.launcher.mail_catcher --host 127.0.0.1 --port 8025 --outbox DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025


class OutboxHandler:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        try:
            raw = envelope.original_content or b""
            path = self.keep(mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos, raw=raw)
        except OSError as exc:
            logger.error("could not keep a message from %s: %s", envelope.mail_from, exc)
            return "451 Requested action aborted: could not store the message"
        logger.info("kept a message from %s to %s as %s", envelope.mail_from, ", ".join(envelope.rcpt_tos), path.name)
        return "250 Message accepted for delivery"

    def keep(self, *, mail_from: str | None, rcpt_tos: Sequence[str], raw: bytes) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{uuid.uuid4().hex}.eml"
        envelope = (
            f"X-Envelope-From: <{_header_safe(mail_from or '')}>\r\n"
            f"X-Envelope-To: {', '.join('<' + _header_safe(r) + '>' for r in rcpt_tos)}\r\n"
        ).encode()
        self.outbox.mkdir(parents=True, exist_ok=True)
        tmp = self.outbox / f".{name}.tmp"
        try:
            with open(tmp, "wb") as file:
                file.write(envelope + raw)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.outbox / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self.outbox / name


class MailCatcher:
    """A threaded aiosmtpd server keeping messages in `outbox`; port 0 picks a free port."""

    def __init__(self, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, outbox: Path) -> None:
        self.host = host
        self.port = port
        self.outbox = Path(outbox)
        self._controller: Any = None

    def start(self) -> MailCatcher:
        """Listen and serve in a background thread; a busy port is an OSError here, at once."""
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            raise RuntimeError("the mail catcher is already running")
        self.outbox.mkdir(parents=True, exist_ok=True)
        sock = _bind(self.host, self.port)

        class _Controller(Controller):
            # Serves on the socket bound above, so port 0 works and a bind error is not left to
            # the server thread (where aiosmtpd only reports it after its ready timeout).
            def _create_server(self) -> Any:
                return self.loop.create_server(self._factory_invoker, sock=sock)

        controller = _Controller(
            OutboxHandler(self.outbox),
            hostname=self.host,
            port=sock.getsockname()[1],
            enable_SMTPUTF8=True,
            ident="taskcenter mail catcher",
        )
        try:
            controller.start()
        except BaseException:
            sock.close()
            raise
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taskcenter.launcher.mail_catcher", description="Keep every mail received as an .eml file."
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 for any free port (default %(default)s)")
    parser.add_argument("--outbox", type=Path, required=True, help="folder the .eml files are written to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO

    # Block the stop signals before the server thread starts, so that every thread inherits the
    # mask and sigwait below is the only place they arrive.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    catcher = MailCatcher(host=args.host, port=args.port, outbox=args.outbox)
    try:
        catcher.start()
    except OSError as exc:
        print(f"mail catcher: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    where = f"smtp://{args.host}:{catcher.port}"
    print(f"mail catcher listening on {where}, keeping messages in {catcher.outbox.resolve()}", flush=True)
    try:
        received = signal.sigwait(stop_signals)
        logger.info("stopping on %s", signal.Signals(received).name)
    finally:
        catcher.stop()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(100)
    except BaseException:
        sock.close()
        raise
    return sock


def _header_safe(text: str) -> str:
    return "".join(ch for ch in text if ch not in "\r\n<>")


if __name__ == "__main__":
    sys.exit(main())
