"""``python -m wise_async.testing serve --port N``: FakeWise as an HTTP server, for other processes and
languages (like stripe-mock). Prints the base URL, the credentials it accepts, the public key its webhooks
are signed with and its inspection URL (``--env-file PATH`` also writes them there, ``KEY=value`` lines),
then serves until Ctrl-C. ``--seed`` makes ids, tokens and keys the same at every start. State changes
are POSTed as webhooks to the subscriptions made through the API (loopback URLs only).

``python -m wise_async.testing answered``: how many of the client's operations FakeWise answers
(``fake: N/M operations answered``); exits 1 when any is left out (``make test`` runs it).

``python -m wise_async.testing rules``: FakeWise's business rules, each with where Wise documents it and
the error it answers, each checked through the SDK (``fake rules: N/N enforced``); exits 1 when any is not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import sys
from collections.abc import Sequence
from pathlib import Path

from ._fake import FakeWise
from ._fake_jose import FakeJose
from ._server import serve_asgi


def build_fake(args: argparse.Namespace) -> tuple[FakeWise, list[str]]:
    """The served fake and the lines that tell a client how to use it (base URL and inspection URL
    come from the server once it listens)."""
    fake = FakeWise(seed=args.seed)
    if args.jose:
        FakeJose.attach(fake)
    tokens = [fake.add_personal_token(token) for token in args.token] or [fake.add_personal_token()]
    fake.add_client(args.client_id, args.client_secret)
    lines = [
        f"WISE_API_TOKEN={tokens[0]}",
        f"WISE_CLIENT_ID={args.client_id}",
        f"WISE_CLIENT_SECRET={args.client_secret}",
        f"WISE_WEBHOOK_PUBLIC_KEY={fake.webhooks.public_key_b64}",
        f"# profiles: personal {fake.personal_profile_id}, business {fake.business_profile_id};"
        f" operations served: {len(fake.operations)}; JOSE: {'on' if args.jose else 'off'}",
    ]
    return fake, lines


async def serve(args: argparse.Namespace) -> None:
    fake, lines = build_fake(args)
    async with serve_asgi(fake.asgi_app, host=args.host, port=args.port, log_level=args.log_level) as server:
        lines = [
            f"WISE_BASE_URL={server.base_url}",
            *lines[:-1],
            f"WISE_FAKE_STATE_URL={server.base_url}/_fake/state",
            lines[-1],
        ]
        if args.env_file:
            Path(args.env_file).write_text("\n".join(lines) + "\n")
        print(f"FakeWise listening on {server.base_url}  (Ctrl-C to stop)")
        print("\n".join(lines), flush=True)
        await server.wait()


def _serve_or_explain(args: argparse.Namespace) -> int:
    """Serve; a missing extra or a taken port is one line on stderr and exit status 2, not a traceback."""
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except ModuleNotFoundError as missing:
        print(f"python -m wise_async.testing serve: {missing}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = (
                f"port {args.port} on {args.host} is already in use; pick another with --port (0: any free)"
            )
        else:
            reason = f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
        print(f"python -m wise_async.testing serve: {reason}", file=sys.stderr)
        return 2
    return 0


def answered() -> int:
    answers = FakeWise().answered()
    missing = sorted(op for op, ok in answers.items() if not ok)
    print(f"fake: {len(answers) - len(missing)}/{len(answers)} operations answered")
    for operation_id in missing:
        print(f"  not answered: {operation_id}")
    return 1 if missing else 0


def rules(*, quiet: bool = False) -> int:
    from ._rule_checks import check_rules
    from ._rules import RULES

    problems = asyncio.run(check_rules())
    enforced = sum(problem is None for problem in problems.values())
    for entry in RULES:
        problem = problems[entry.name]
        if quiet and problem is None:
            continue
        error = f"{entry.status} {entry.code or '(success)'}"
        if not entry.error_documented:
            error += " [error shape: the fake's choice, Wise documents the rule only]"
        print(f"{'ok  ' if problem is None else 'FAIL'} {entry.name} ({entry.operation}): {entry.rule}")
        print(f"       error:  {error}; body {entry.shape}")
        print(f"       source: {entry.source}")
        if entry.lenient:
            print(f"       lenient: {entry.lenient}")
        if problem is not None:
            print(f"       problem: {problem}")
    print(f"fake rules: {enforced}/{len(RULES)} enforced")
    return 0 if enforced == len(RULES) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wise_async.testing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve FakeWise over HTTP on a loopback port")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=12111, help="0 picks a free port (default 12111)")
    serve_cmd.add_argument(
        "--token", action="append", default=[], help="a personal API token to accept (repeatable)"
    )
    serve_cmd.add_argument("--client-id", default="fake-client")
    serve_cmd.add_argument("--client-secret", default="fake-secret")
    serve_cmd.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for ids, tokens and keys: the same at every start (default 0)",
    )
    serve_cmd.add_argument("--env-file", help="also write the printed KEY=value lines to this file")
    serve_cmd.add_argument("--jose", action="store_true", help="speak JOSE as Wise does (FakeJose)")
    serve_cmd.add_argument("--log-level", default="warning", help="uvicorn's log level")
    commands.add_parser("answered", help="count the operations FakeWise answers; exit 1 below all")
    rules_cmd = commands.add_parser(
        "rules", help="list FakeWise's business rules and check each through the SDK"
    )
    rules_cmd.add_argument("--quiet", action="store_true", help="list only the rules not enforced")
    args = parser.parse_args(argv)
    if args.command == "answered":
        return answered()
    if args.command == "rules":
        return rules(quiet=args.quiet)
    return _serve_or_explain(args)


if __name__ == "__main__":
    sys.exit(main())
