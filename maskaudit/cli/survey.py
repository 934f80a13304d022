"""``maskaudit survey``: serve the human-baseline survey, export its responses, make synthetic ones.

  maskaudit survey serve --bundle results/survey/demo/bundle            # http://127.0.0.1:8080
  maskaudit survey export --out responses.tsv                           # what the workflow analyses
  maskaudit survey synthesize --key results/survey/demo/key.tsv --out synthetic.tsv

The database is SQLite by default (``--database sqlite:///resources/survey/survey.sqlite``) or
PostgreSQL (``--database postgresql://user@host/db``, or the MASKAUDIT_SURVEY_DATABASE variable, which
keeps a password off the command line). Several hosts can serve one PostgreSQL database when they
share MASKAUDIT_SURVEY_SECRET (the session-signing key).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

DEFAULT_DB = "sqlite:///resources/survey/survey.sqlite"


def _limits(text: str) -> list:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if part in ("none", "null", "0", ""):
            out.append(None)
        elif part.isdigit() and 1 <= int(part) <= 600:
            out.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"time limit {part!r}: use none or whole seconds 1..600"
            )
    return out


def _config_limits(path: str):
    import yaml

    p = Path(path)
    if not p.is_file():
        return [None]
    return ((yaml.safe_load(p.read_text()) or {}).get("survey") or {}).get("time_limits_s") or [
        None
    ]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "survey",
        help="serve the human-baseline survey, export or synthesise responses",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="survey_command", metavar="ACTION", required=True)
    database = dict(
        default=os.environ.get("MASKAUDIT_SURVEY_DATABASE", DEFAULT_DB),
        help="sqlite:///path or postgresql://... (default: $MASKAUDIT_SURVEY_DATABASE or %(default)s)",
    )

    s = sub.add_parser(
        "serve",
        help="serve the survey with waitress",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    s.add_argument(
        "--bundle", required=True, help="the survey bundle folder (results/survey/<dataset>/bundle)"
    )
    s.add_argument("--database", **database)
    s.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 only behind a TLS proxy)"
    )
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    s.add_argument(
        "--connections", type=int, default=500, help="open connections waitress accepts at once"
    )
    s.add_argument(
        "--config", default="config/config.yaml", help="read survey.time_limits_s from here"
    )
    s.add_argument(
        "--time-limits",
        type=_limits,
        default=None,
        help="conditions, e.g. none,10 (overrides the config's survey.time_limits_s)",
    )
    s.add_argument(
        "--rate-per-address",
        type=int,
        default=300,
        help="requests per minute per client address (0: off)",
    )
    s.add_argument(
        "--rate-per-participant",
        type=int,
        default=60,
        help="answers per minute per participant (0: off)",
    )
    s.add_argument(
        "--trusted-proxies",
        type=int,
        default=0,
        help="reverse proxies in front (their X-Forwarded-For gives the client address)",
    )
    s.add_argument(
        "--secure-cookies", action="store_true", help="HTTPS only cookies and HSTS (behind TLS)"
    )
    s.add_argument("--title", default="Recognising masked faces")
    s.add_argument(
        "--contact", default="", help="who participants can contact (shown on the consent page)"
    )
    s.add_argument("--seed", type=int, default=0, help="seed of the per-participant trial order")
    s.set_defaults(func=serve)

    e = sub.add_parser("export", help="write every stored response to a TSV the workflow analyses")
    e.add_argument("--database", **database)
    e.add_argument("--out", required=True)
    e.set_defaults(func=export)

    y = sub.add_parser(
        "synthesize", help="seeded SYNTHETIC responses (labelled as such) for a survey's key"
    )
    y.add_argument("--key", required=True, help="results/survey/<dataset>/key.tsv")
    y.add_argument("--out", required=True)
    y.add_argument("--participants", type=int, default=40)
    y.add_argument("--time-limits", type=_limits, default=[None, 10])
    y.add_argument("--seed", type=int, default=20240221)
    y.set_defaults(func=synthesize_cmd)


def build_app(args):
    from maskaudit.survey.app import create_app
    from maskaudit.survey.store import open_store

    secret = os.environ.get("MASKAUDIT_SURVEY_SECRET") or secrets.token_hex(32)
    limits = args.time_limits if args.time_limits is not None else _config_limits(args.config)
    app = create_app(
        args.bundle,
        open_store(args.database),
        secret_key=secret,
        time_limits=limits,
        rate_per_address=args.rate_per_address,
        rate_per_participant=args.rate_per_participant,
        secure_cookies=args.secure_cookies,
        title=args.title,
        contact=args.contact,
        seed=args.seed,
    )
    if args.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=args.trusted_proxies, x_proto=args.trusted_proxies
        )
    return app, limits


def serve(args) -> int:
    import logging

    from waitress import create_server

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app, limits = build_app(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = create_server(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        connection_limit=args.connections,
        ident="survey",
    )
    port = server.effective_port
    print(
        f"survey on http://{args.host}:{port}/ (conditions {limits}); Ctrl-C stops it", flush=True
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def export(args) -> int:
    from maskaudit.survey.store import open_store

    store = open_store(args.database)
    table = store.export()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, sep="\t", index=False, lineterminator="\n")
    counts = store.counts()
    print(
        f"{len(table)} responses of {table.participant.nunique()} participants -> {args.out} "
        f"({counts['complete']} complete, {counts['withdrawals']} withdrawn and deleted)"
    )
    return 0


def synthesize_cmd(args) -> int:
    from maskaudit.survey.synthetic import synthesize, write_responses
    from maskaudit.tsv import read_tsv

    key = read_tsv(args.key, dtype=str)
    k = len(str(key.candidate_ids.iloc[0]).split(";"))
    write_responses(
        synthesize(
            key,
            participants=args.participants,
            time_limits=args.time_limits,
            seed=args.seed,
            candidates=k,
        ),
        args.out,
    )
    print(f"SYNTHETIC responses of {args.participants} simulated participants -> {args.out}")
    return 0
