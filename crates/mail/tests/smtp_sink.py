#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for altrion-mail's tests.

Listens on 127.0.0.1 at an ephemeral port, prints `PORT <n>` once listening, then one JSON line
per DATA it answers: {"mail_from", "rcpt_tos", "data" (the raw message), "reply"}. With
--stall it speaks no SMTP: it accepts connections, prints {"event": "connect"} for each and
never answers. Every line is flushed at once so the test reads events as they happen. It exits
when its stdin closes.
"""

import argparse
import asyncio
import json
import sys

from aiosmtpd.smtp import SMTP


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Handler:
    def __init__(self, fail_with, times, reject):
        self.fail_with = fail_with
        self.failures_left = times if fail_with else 0
        self.reject = reject

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            reply = f"{self.reject} 5.7.1 message refused"
        elif self.failures_left > 0:
            self.failures_left -= 1
            reply = f"{self.fail_with} 4.3.0 try again later"
        else:
            reply = "250 2.0.0 OK"
        emit(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.original_content.decode("utf-8", errors="replace"),
                "reply": reply,
            }
        )
        return reply


async def stalled(reader, writer):
    emit({"event": "connect"})
    try:
        await reader.read()  # until the client gives up and closes
    except ConnectionError:
        pass  # a reset is how a client that timed out may give up
    writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-with", type=int, help="answer DATA with this 4xx code first")
    parser.add_argument("--times", type=int, default=1, help="how many times --fail-with answers")
    parser.add_argument("--reject", type=int, help="answer every DATA with this 5xx code")
    parser.add_argument("--stall", action="store_true", help="accept connections, never answer")
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    if args.stall:
        server = await asyncio.start_server(stalled, "127.0.0.1", 0)
    else:
        handler = Handler(args.fail_with, args.times, args.reject)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", 0
        )
    emit_port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {emit_port}\n")
    sys.stdout.flush()

    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
