"""The `customers` command line: serve, token, and the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from entrypoints import cli_args
from entrypoints.cli_audit import add_audit_commands
from entrypoints.cli_help import env_default, env_help, environment_epilog, plain_help
from entrypoints.cli_import import add_import_command
from entrypoints.cli_keys import add_keys_command
from shared.errors import ConfigurationError, CustomerError
from shared.logs import LOG_FORMATS
from shared.principal import Role
from shared.settings import Settings

#: seconds a `serve --workers N` worker may take to answer its supervisor's health ping
WORKER_HEALTHCHECK_SECONDS = 30
LOG_FORMAT_HELP = env_help("log lines: pretty on a terminal, else JSON", "CUSTOMERS_LOG_FORMAT")


def _settings(args: argparse.Namespace) -> Settings:
    data_dir = Path(args.data_dir) if getattr(args, "data_dir", None) else None
    return Settings.from_env(data_dir=data_dir, log_format=getattr(args, "log_format", None))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.app import create_app
    from entrypoints.http_server import BoundedHttpToolsProtocol
    from entrypoints.serve_banner import Listening, announce
    from shared.logs import configure_logging

    settings = _settings(args)
    settings.require_shared_secrets()
    tls = cli_args.tls_options(args.tls_cert, args.tls_key)
    log_format = configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    listening = Listening(
        settings, args.host, args.port, args.data_dir, args.workers, tls=bool(tls)
    )
    announce(listening, log_format)
    options = {"host": args.host, "port": args.port, "log_config": None, "access_log": False}
    options |= {"proxy_headers": False, "http": BoundedHttpToolsProtocol, **tls}
    if args.workers > 1:
        os.environ["CUSTOMERS_DATA_DIR"] = str(settings.data_dir)
        os.environ["CUSTOMERS_LOG_FORMAT"] = log_format
        # uvicorn's supervisor kills a worker that misses a 5 s health ping; a worker still
        # importing and building its app on busy cores missed it, was killed, restarted and
        # killed again (the CI met that loop at a load of 10): 30 s still replaces a hung one.
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
        uvicorn.run("entrypoints.app:app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def _token(args: argparse.Namespace) -> int:
    from shared.http.auth import mint_token

    roles = [r.strip() for value in args.role for r in value.split(",") if r.strip()]
    known = {r.value for r in Role}
    unknown = [r for r in roles if r not in known]
    if unknown or not roles:
        problem = f"unknown role(s) {unknown}" if unknown else "no role given"
        print(f"customers token: {problem}; choose from {sorted(known)}", file=sys.stderr)
        return 2
    settings = _settings(args)
    token = mint_token(
        settings.resolved_jwt_secret(),
        tenant=args.tenant,
        roles=roles,
        subject=args.subject,
        ttl_seconds=args.ttl,
    )
    print(token)
    return 0


def _projections(args: argparse.Namespace) -> int:
    from entrypoints import cli_projections as ops

    if args.action in ("list", "query"):
        return _plugins(args)
    if args.name and args.action in ("run", "status"):
        print(f"customers projections {args.action} takes no NAME", file=sys.stderr)
        return 2
    settings = _settings(args)
    if args.action == "run":
        from shared.logs import configure_logging

        settings.require_shared_secrets()
        configure_logging(settings.log_level, settings.log_format)
        return asyncio.run(ops.run_worker(settings))
    if args.action == "status":
        return asyncio.run(ops.show_status(settings))
    if args.action == "retry":
        if args.name not in ops.DEAD_LETTER_NAMES:
            choices = ", ".join(ops.DEAD_LETTER_NAMES)
            print(f"customers projections retry needs a NAME: one of {choices}", file=sys.stderr)
            return 2
        return asyncio.run(ops.clear_dead_letters(settings, args.name, "cli"))
    from projectors.discovery import discover

    known = [*ops.PROJECTIONS, *discover().names]
    names = [args.name] if args.name else known
    unknown = [n for n in names if n not in known]
    if unknown:
        choices = ", ".join(known)
        print(f"customers projections: unknown {unknown}; choose from {choices}", file=sys.stderr)
        return 2
    return asyncio.run(ops.run_rebuild(settings, names))


def _plugins(args: argparse.Namespace) -> int:
    from entrypoints import cli_plugins

    settings = _settings(args)
    if args.action == "list":
        if args.name:
            print("customers projections list takes no NAME", file=sys.stderr)
            return 2
        return asyncio.run(cli_plugins.list_projections(settings))
    if not args.name or not args.tenant:
        print("customers projections query needs a NAME and --tenant", file=sys.stderr)
        return 2
    return asyncio.run(cli_plugins.query_projection(settings, args.name, args.tenant, args.prefix))


def _history(args: argparse.Namespace) -> int:
    from entrypoints import cli_projections as ops

    return asyncio.run(ops.print_history(_settings(args), args.tenant, args.customer_id))


def _retention(args: argparse.Namespace) -> int:
    from entrypoints import cli_projections as ops

    return asyncio.run(ops.run_retention_once(_settings(args), dry_run=args.dry_run))


def _doctor(args: argparse.Namespace) -> int:
    from entrypoints.doctor_report import diagnose, print_report

    data_dir = Path(args.data_dir) if args.data_dir else None
    print("customers doctor: the configuration and every service it names")
    return print_report(asyncio.run(diagnose(data_dir=data_dir)), sys.stdout)


def _add_serve(commands: cli_args.Commands, data_dir: str) -> None:
    """`customers serve` and its options (each one can also come from the environment)."""
    serve = commands.add_parser("serve", help="run the HTTP API and the projectors")
    serve.add_argument(
        "--host",
        default=env_default("CUSTOMERS_HOST"),
        help=env_help("address to listen on", "CUSTOMERS_HOST"),
    )
    port_help = env_help("port to listen on", "CUSTOMERS_PORT")
    port = env_default("CUSTOMERS_PORT")
    serve.add_argument("--port", type=cli_args.port, default=port, help=port_help)
    serve.add_argument("--data-dir", help=data_dir)
    workers = env_help("HTTP worker processes", "CUSTOMERS_WORKERS")
    serve.add_argument(
        "--workers", type=cli_args.workers, default=env_default("CUSTOMERS_WORKERS"), help=workers
    )
    serve.add_argument("--log-format", choices=LOG_FORMATS, help=LOG_FORMAT_HELP)
    tls = "serve HTTPS: the certificate chain (PEM); with --tls-key"
    serve.add_argument("--tls-cert", metavar="FILE", help=plain_help(tls, "plain HTTP"))
    tls_key = "serve HTTPS: the certificate's private key (PEM); with --tls-cert"
    serve.add_argument("--tls-key", metavar="FILE", help=plain_help(tls_key, "plain HTTP"))
    serve.set_defaults(handler=_serve)


def _add_token(commands: cli_args.Commands, data_dir: str) -> None:
    """`customers token`: a signed bearer token for trying the API."""
    token = commands.add_parser("token", help="print a signed bearer token")
    token.add_argument(
        "--tenant", required=True, type=cli_args.name, help="the token's tenant (required)"
    )
    token.add_argument(
        "--role", required=True, action="append", help="role(s), repeatable or a,b (required)"
    )
    subject = plain_help("the actor", "cli-user")
    token.add_argument("--subject", default="cli-user", type=cli_args.name, help=subject)
    lifetime = plain_help(f"lifetime (s), 1-{cli_args.MAX_TOKEN_TTL_SECONDS}", "3600")
    token.add_argument("--ttl", type=cli_args.ttl, default=3600, help=lifetime)
    token.add_argument("--data-dir", help=data_dir)
    token.set_defaults(handler=_token)


def _add_projections(commands: cli_args.Commands, data_dir: str) -> None:
    """`customers projections`: run, inspect, rebuild, retry, list and query projections."""
    projections = commands.add_parser("projections", help="run, inspect or rebuild projections")
    actions = ["run", "status", "rebuild", "retry", "list", "query"]
    projections.add_argument("action", choices=actions)
    projections.add_argument(
        "name", nargs="?", help="a projection (`list` names them); rebuild: default all"
    )
    projections.add_argument(
        "--tenant", type=cli_args.name, help="query: the tenant to read (required for query)"
    )
    projections.add_argument(
        "--prefix", default="", help=plain_help("query: keys starting with this", "every key")
    )
    projections.add_argument("--data-dir", help=data_dir)
    projections.add_argument("--log-format", choices=LOG_FORMATS, help=LOG_FORMAT_HELP)
    projections.set_defaults(handler=_projections)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `customers` command (help names each variable and default)."""
    parser = cli_args.OneLineParser(
        prog="customers",
        description="Customer management service",
        epilog=environment_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data_dir = env_help("embedded data folder", "CUSTOMERS_DATA_DIR")

    _add_serve(commands, data_dir)

    _add_token(commands, data_dir)
    _add_projections(commands, data_dir)
    history = commands.add_parser("history", help="print a customer's audit trail")
    history.add_argument("customer_id", type=cli_args.customer_id)
    history.add_argument(
        "--tenant", required=True, type=cli_args.name, help="the customer's tenant (required)"
    )
    history.add_argument("--data-dir", help=data_dir)
    history.set_defaults(handler=_history)

    retention = commands.add_parser("retention", help="erase customers deleted too long ago")
    retention.add_argument("action", choices=["run"])
    retention.add_argument(
        "--dry-run", action="store_true", help=plain_help("list, erase nothing", "off")
    )
    retention.add_argument("--data-dir", help=data_dir)
    retention.set_defaults(handler=_retention)

    add_audit_commands(commands, data_dir)
    add_import_command(commands, data_dir)
    add_keys_command(commands, data_dir)

    doctor = commands.add_parser(
        "doctor", help="check the configuration and every configured service; say what to fix"
    )
    doctor.add_argument("--data-dir", help=data_dir)
    doctor.set_defaults(handler=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CustomerError as error:
        print(f"customers: {error.detail}", file=sys.stderr)
        return 2
    except ConfigurationError as error:
        print(f"customers: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
