"""The `ohjaustaulu` command line."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
from datetime import time
from pathlib import Path

from dashboard.config import Config, ConfigError, Display
from dashboard.settings import Settings

log = logging.getLogger("ohjaustaulu")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from dashboard.observability import configure_logging

    configure_logging(args.log_format)
    from collectors.registry import NotYetSupported
    from dashboard.storage.livestore import StoreUrlError

    try:
        return int(args.func(args) or 0)
    except NotYetSupported as err:
        print(f"Cannot collect: {err}", file=sys.stderr)
        return 2
    except StoreUrlError as err:
        print(str(err), file=sys.stderr)
        return 2
    except ConfigError as err:
        print("Configuration is not valid:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


def _common(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=default, help="configuration file (default config/ohjaustaulu.toml)")
    common.add_argument("--data-dir", default=default, help="data folder (default ./data or OHJAUSTAULU_DATA)")
    common.add_argument("--log-format", choices=["text", "json"], default=default,
                        help="log lines as text or one JSON object each (default OHJAUSTAULU_LOG_FORMAT or text)")
    return common


def _parser() -> argparse.ArgumentParser:
    # the common options go before the command's name or after it (`ohjaustaulu --data-dir X
    # display-token ID` as well as `ohjaustaulu display-token ID --data-dir X`): given after
    # it, they win; not given there, the command's parser leaves the value before it alone
    common = _common(argparse.SUPPRESS)
    p = argparse.ArgumentParser(prog="ohjaustaulu", description="Sote-centre control board",
                                parents=[_common(None)])
    sub = p.add_subparsers(required=True, metavar="command")

    demo = sub.add_parser("demo", parents=[common], help="the whole system on one machine")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8050)
    demo.add_argument("--start", default="10:00", help="demo clock start outside opening hours")
    demo.add_argument("--speed", type=float, default=1.0, help="demo clock speed (1 = real time; the feeds' poll intervals, and so how long a "
                           "figure stays fresh, are real seconds and run as fast on the demo's clock)")
    demo.add_argument("--clock-at", metavar="HH:MM", default=None,
                      help="always run the simulated day from this time of the latest working day, "
                           "whatever the hour now (tests, screenshots)")
    demo.add_argument("--history-weeks", type=_weeks, default=8, metavar="N",
                      help="weeks of past working days seeded for the manager's history, in the background "
                           "(default 8; 0: none, e.g. for a large area's configuration)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", parents=[common], help="the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--workers", type=int, default=1,
                       help="web worker processes sharing the port (default 1; about one per core)")
    serve.set_defaults(func=cmd_serve)

    collect = sub.add_parser("collect", parents=[common], help="the collectors")
    collect.add_argument("--once", action="store_true", help="poll each source once and exit")
    collect.add_argument("--source", help="only this source")
    collect.add_argument("--metrics-host", default="127.0.0.1",
                         help="the address --metrics-port listens on (default: this host only)")
    collect.add_argument("--metrics-port", type=int, default=None,
                         help="serve this process's Prometheus metrics (poll durations, leases) on this port")
    collect.set_defaults(func=cmd_collect)

    snap = sub.add_parser("snapshot", parents=[common], help="what a display shows now")
    snap.add_argument("--display", required=True)
    snap.add_argument("--json", action="store_true", required=True)
    snap.set_defaults(func=cmd_snapshot)

    check = sub.add_parser("check-config", parents=[common], help="validate the configuration")
    check.set_defaults(func=cmd_check_config)

    imp = sub.add_parser("import", parents=[common], help="import a control-board workbook")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="validate only, apply nothing")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.add_argument("--user", default=None, help="who imports (default: the login name)")
    imp.set_defaults(func=cmd_import)

    tpl = sub.add_parser("template", parents=[common], help="write an empty workbook")
    tpl.add_argument("file")
    tpl.add_argument("--lang", choices=["fi", "sv", "en"], default=None)
    tpl.set_defaults(func=cmd_template)

    screen = sub.add_parser("screen", parents=[common], help="the screens that have sent heartbeats")
    screen.add_argument("action", choices=["list", "forget"])
    screen.add_argument("id", nargs="?", help="the screen's id (forget)")
    screen.set_defaults(func=cmd_screen)

    source = sub.add_parser("source", parents=[common], help="stop or start polling a source")
    source.add_argument("action", choices=["stop", "start", "status"])
    source.add_argument("name")
    source.set_defaults(func=cmd_source)

    user = sub.add_parser("user", parents=[common], help="local accounts")
    user_sub = user.add_subparsers(required=True, metavar="action")
    add = user_sub.add_parser("add", parents=[common], help="create or update a local account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["shift_lead", "manager", "admin"])
    add.add_argument("--units", nargs="*", default=[], help="unit codes (default: every unit)")
    add.add_argument("--sites", nargs="*", default=[],
                     help="site codes: every unit of these sites, beside --units (default: every unit)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)
    disable = user_sub.add_parser("disable", parents=[common], help="disable an account and end its sessions")
    disable.add_argument("name")
    disable.set_defaults(func=cmd_user_disable)
    sessions = user_sub.add_parser("sessions", parents=[common], help="count (or end) a person's sessions")
    sessions.add_argument("name")
    sessions.add_argument("--end", action="store_true", help="end every session of the person now")
    sessions.set_defaults(func=cmd_user_sessions)

    ref = sub.add_parser("reference", parents=[common], help="reference figures (THL Sotkanet) beside ours")
    ref_sub = ref.add_subparsers(required=True, metavar="action")
    ref_import = ref_sub.add_parser("import", parents=[common],
                                    help="import an indicator export of Sotkanet (CSV or the REST API's JSON)")
    ref_import.add_argument("file")
    ref_import.add_argument("--dry-run", action="store_true", help="read and check only, store nothing")
    ref_import.add_argument("--lang", choices=["fi", "sv", "en"], default=None,
                            help="the language of the messages (default: the site's)")
    ref_import.set_defaults(func=cmd_reference_import)

    token = sub.add_parser("display-token", parents=[common], help="print (or revoke) a screen's token")
    token.add_argument("display")
    token.add_argument("--revoke", action="store_true", help="revoke every token of the display")
    token.set_defaults(func=cmd_display_token)
    return p


REFERENCE_SAID = {
    "checked": {"fi": "{n} lukua kunnossa (kokeilu: mitään ei tallennettu; {skipped} riviä ilman arvoa tai "
                      "vain toiselle sukupuolelle ohitettu)",
                "sv": "{n} värden i ordning (provkörning: inget sparat; {skipped} rader utan värde eller för "
                      "ett kön hoppades över)",
                "en": "{n} figures OK (dry run: nothing stored; {skipped} rows without a value or for one "
                      "gender skipped)"},
    "stored": {"fi": "{n} vertailulukua tallennettu ({skipped} riviä ilman arvoa tai vain toiselle "
                     "sukupuolelle ohitettu)",
               "sv": "{n} jämförelsevärden sparade ({skipped} rader utan värde eller för ett kön hoppades över)",
               "en": "{n} reference figures stored ({skipped} rows without a value or for one gender skipped)"},
}


def cmd_reference_import(args: argparse.Namespace) -> int:
    """Read the whole file first: stored whole or not at all, every problem listed with its
    line and column in the user's language."""
    from dashboard.domain import accessfigures
    from dashboard.domain.reference import ReferenceFileError, load_reference
    from dashboard.storage import audit

    s = _settings(args)
    lang = args.lang or s.config.site.language
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as err:
        print(f"{path}: {err.strerror or err}", file=sys.stderr)
        return 2
    try:
        result = load_reference(data, path.name)
    except ReferenceFileError as err:
        print(f"{path}: {err.text(lang)}", file=sys.stderr)
        return 1
    skipped = result.skipped_no_value + result.skipped_gender
    if args.dry_run:
        print(f"{path}: " + REFERENCE_SAID["checked"][lang].format(n=len(result.rows), skipped=skipped))
        return 0
    history = s.history()
    n = accessfigures.save_reference(history, result.rows, path.name)
    audit.record(history, getpass.getuser(), "reference-import",
                 {"file": path.name, "figures": n, "skipped": skipped})
    print(f"{path}: " + REFERENCE_SAID["stored"][lang].format(n=n, skipped=skipped))
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from dashboard.storage import audit
    from dashboard.web.accounts import AccountError, add_user, list_users

    s = _settings(args)
    unknown = [u for u in args.units if u not in {x.code for x in s.config.units}]
    if unknown:
        print(f"--units: unknown unit {unknown[0]!r}; configured: "
              f"{', '.join(u.code for u in s.config.units)}", file=sys.stderr)
        return 2
    sites = {x.code for x in s.config.area}
    unknown = [x for x in args.sites if x not in sites]
    if unknown:
        print(f"--sites: unknown site {unknown[0]!r}; configured: "
              f"{', '.join(x.code for x in s.config.area)}", file=sys.stderr)
        return 2
    # a site's scope is its units (the account keeps unit codes: every guard checks units);
    # a unit added to the site later needs the account updated — the audit row says which sites
    args.units = s.config.scope_units(args.sites, args.units)
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    before = next((u for u in list_users(s.history()) if u["name"] == args.name.strip()), None)
    try:
        created = add_user(s.history(), args.name, args.role, args.units, password)
    except AccountError as err:
        print(str(err), file=sys.stderr)
        return 2
    ended = 0
    if before is not None and (password is not None or before["role"] != args.role
                               or before["units"] != args.units or before["disabled"]):
        # what a session was given no longer holds: the person signs in again
        ended = s.store().end_sessions(args.name.strip())
    audit.record(s.history(), getpass.getuser(), "user-add" if created else "user-update",
                 {"user": args.name, "sessions_ended": ended},
                 before=None if before is None else {"role": before["role"], "units": before["units"]},
                 after={"role": args.role, "units": args.units, "password_set": password is not None,
                        **({"sites": args.sites} if args.sites else {})})
    print(f"{'created' if created else 'updated'} {args.name} ({args.role}"
          f"{', units ' + ' '.join(args.units) if args.units else ', every unit'})"
          + (f"; ended {ended} session(s)" if ended else ""))
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    from dashboard.storage import audit
    from dashboard.web.accounts import disable_user

    s = _settings(args)
    if not disable_user(s.history(), args.name):
        print(f"no user {args.name!r}", file=sys.stderr)
        return 2
    ended = s.store().end_sessions(args.name)
    audit.record(s.history(), getpass.getuser(), "user-disable", {"user": args.name, "sessions_ended": ended})
    print(f"disabled {args.name}; ended {ended} session(s)")
    return 0


def cmd_user_sessions(args: argparse.Namespace) -> int:
    from dashboard.storage import audit

    s = _settings(args)
    store = s.store()
    if not args.end:
        print(f"{args.name}: {store.user_sessions(args.name)} session(s)")
        return 0
    ended = store.end_sessions(args.name)
    audit.record(s.history(), getpass.getuser(), "sessions-end", {"user": args.name, "sessions_ended": ended})
    print(f"ended {ended} session(s) of {args.name}")
    return 0


def cmd_display_token(args: argparse.Namespace) -> int:
    from dashboard.storage import audit
    from dashboard.web.accounts import new_display_token, revoke_display_tokens

    s = _settings(args)
    if _display(s, args.display) is None:
        return 2
    who = getpass.getuser()
    if args.revoke:
        n = revoke_display_tokens(s.history(), args.display)
        audit.record(s.history(), who, "display-token-revoke", {"display": args.display, "revoked": n})
        print(f"revoked {n} token(s) of {args.display}; its screens stop within 30 s")
        return 0
    token = new_display_token(s.history(), args.display)
    audit.record(s.history(), who, "display-token", {"display": args.display})
    print(token)
    return 0


def _weeks(text: str) -> int:
    try:
        weeks = int(text)
    except ValueError:
        weeks = -1
    if not 0 <= weeks <= 104:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of weeks from 0 to 104")
    return weeks


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(args.config, args.data_dir)


def _display(s: Settings, display_id: str) -> Display | None:
    """The configured display, or None after saying which ones there are."""
    try:
        return s.config.display(display_id)
    except KeyError:
        print(f"unknown display {display_id!r}; configured: "
              f"{', '.join(d.id for d in s.config.displays)}", file=sys.stderr)
        return None


def cmd_check_config(args: argparse.Namespace) -> int:
    from dashboard.domain.escalation import useless_rules

    s = _settings(args)
    cfg = s.config
    # what is valid yet cannot do what it says: the server starts with it, the check fails
    problems = useless_rules(cfg)
    if problems:
        raise ConfigError(problems)
    print(f"{cfg.path}: OK — {len(cfg.units)} units, {len(cfg.displays)} displays, "
          f"{len(cfg.sources)} sources")
    for line in site_report(cfg):
        print(line)
    for line in data_report(s):
        print(line)
    return 0


def data_report(s: Settings) -> list[str]:
    """What this configuration does to the data already kept: each metric the history holds
    that it no longer defines (removed, or renamed: its history stays, under its old id, and
    is shown nowhere), and each own metric that no display's page shows. The history is only
    read (a SQLite file that is not there is no history), never made or migrated here."""
    from sqlalchemy import func, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from dashboard.storage.history import make_engine
    from dashboard.storage.tables import DailyRollup

    lines: list[str] = []
    cfg = s.config
    known = cfg.catalogue()
    shown = {m for d in cfg.displays for m in cfg.shown_metrics(d)}
    for m in cfg.own_metrics().values():
        if m.id not in shown:
            lines.append(f"  note: {m.id} is shown on no display's page (it is still entered, kept in history "
                         "and can raise a level)")
    sqlite = s.data_dir / "ohjaustaulu.db"
    if not s.database_url and not sqlite.exists():
        return lines
    engine = make_engine(s.database_url or f"sqlite:///{sqlite}", s.db_schema)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(DailyRollup.__tablename__, schema=s.db_schema):
                return lines
            kept = conn.execute(select(DailyRollup.metric, func.min(DailyRollup.day), func.max(DailyRollup.day),
                                       func.count()).group_by(DailyRollup.metric)).all()
    except SQLAlchemyError as err:
        return [*lines, f"  note: the history could not be read to say what this configuration does to it ({err.__class__.__name__})"]
    finally:
        engine.dispose()
    for metric, first, last, days in sorted(kept):
        if metric not in known and metric not in ("escalation.level", "staff.present_ratio"):
            lines.append(f"  history of {metric} kept ({days} unit-days, {first:%d.%m.%Y}–{last:%d.%m.%Y}), "
                         "no longer shown: no metric of this configuration has that id (removed, or renamed)")
    return lines


def site_report(cfg: Config) -> list[str]:
    """check-config per site: each site's units, displays and the sources that feed it; and
    the displays that span sites (a region display)."""
    lines = []
    spanning = [d.id for d in cfg.displays if len(cfg.display_sites(d)) > 1]
    for site in cfg.area:
        units = cfg.site_units(site.code)
        displays = [d.id for d in cfg.displays if [x.code for x in cfg.display_sites(d)] == [site.code]]
        sources = [x.name for x in cfg.sources
                   if set(x.units) & set(units) or set(x.unit_map.values()) & set(units)]
        hours = cfg.hours(units[0]).text() if units else "–"
        lines.append(f"  site {site.code} ({site.name}, {hours}): {len(units)} units ({', '.join(units) or 'none'}); "
                     f"displays: {', '.join(displays) or 'none'}; sources: {', '.join(sources) or 'none'}")
    if spanning:
        lines.append(f"  across sites: displays {', '.join(spanning)}")
    return lines


def cmd_snapshot(args: argparse.Namespace) -> int:
    from dashboard.domain.readmodel import build, snapshot

    s = _settings(args)
    display = _display(s, args.display)
    if display is None:
        return 2
    store = s.store()
    model = build(s.config, display, store, s.history())
    print(json.dumps(snapshot(model, s.config, store), ensure_ascii=False, indent=2))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import getpass

    from dashboard.workbook.importer import import_bytes

    s = _settings(args)
    lang = s.config.site.language
    try:
        data = open(args.file, "rb").read()
    except OSError as err:
        print(f"{args.file}: {err.strerror}", file=sys.stderr)
        return 2
    report = import_bytes(
        data, os.path.basename(args.file), args.user or getpass.getuser(), config=s.config,
        store=s.store(), history=s.history(), data_dir=s.data_dir, lang=lang, dry_run=args.dry_run,
    )
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report, args.file, lang)
    return 0 if report.ok else 1


REPORT_WORDS = {
    "fi": ("VIRHE", "huom", "otettu käyttöön", "ei otettu käyttöön", "ei muutoksia"),
    "sv": ("FEL", "obs", "tagen i bruk", "inte tagen i bruk", "inga ändringar"),
    "en": ("ERROR", "note", "applied", "not applied", "no changes"),
}


def _print_report(report, path: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    error, note, applied, refused, unchanged = REPORT_WORDS[lang]
    for e in report.errors:
        where = f"{e['sheet']} {e['row']} {e['column']}".strip() if e["sheet"] else path
        value = f" [{e['value']}]" if e["value"] else ""
        print(f"{error} {where}{value}: {e['message']}")
    for w in report.warnings:
        print(f"{note}: {w}")
    rows = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    state = applied if report.applied else (refused if report.errors else unchanged)
    print(f"{path}: {state}{' – ' + rows if rows else ''} (sha256 {report.sha256[:12]}…)")


def cmd_template(args: argparse.Namespace) -> int:
    from dashboard.workbook.template import template

    s = _settings(args)
    with open(args.file, "wb") as f:
        f.write(template(s.config, args.lang or s.config.site.language))
    print(args.file)
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    from dashboard.storage import audit

    s = _settings(args)
    store = s.store()
    if args.action == "list":
        for beat in sorted(store.screens(), key=lambda b: str(b.get("screen"))):
            print(json.dumps(beat, ensure_ascii=False))
        return 0
    if not args.id:
        print("screen forget: give the screen's id (ohjaustaulu screen list shows them)", file=sys.stderr)
        return 2
    before = store.screen(args.id)
    if not store.forget_screen(args.id):
        print(f"no screen {args.id!r} (ohjaustaulu screen list shows them)", file=sys.stderr)
        return 2
    audit.record(s.history(), getpass.getuser(), "screen-forget", {"screen": args.id}, before=before)
    print(f"forgot screen {args.id}")
    return 0


def cmd_source(args: argparse.Namespace) -> int:
    s = _settings(args)
    try:
        s.config.source(args.name)
    except KeyError:
        print(f"unknown source {args.name!r}", file=sys.stderr)
        return 2
    store = s.store()
    if args.action == "stop":
        store.stop_source(args.name)
    elif args.action == "start":
        store.start_source(args.name)
    print(json.dumps(vars(store.source_status(args.name)) | {"stopped": store.is_stopped(args.name)},
                     ensure_ascii=False))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from collectors import scheduler

    s = _settings(args)
    if args.source:
        s.config.source(args.source)
    store, history = (s.store(), s.history()) if args.once else (s.store(supervise=True), s.history())
    if args.once:
        results = scheduler.poll_all_once(s.config, store, history, s.data_dir, args.source)
        for name, r in results.items():
            print(f"{name}: {'ok' if r.ok else 'FAILED'} items={r.items} changed={r.changed}"
                  + (f" ({r.error})" if r.error else ""))
        return 0 if all(r.ok for r in results.values()) else 1
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)
    sched = scheduler.build_scheduler(s.config, store, history, s.data_dir, args.source)
    scheduler.start(sched)
    log.info("collecting as %s: %d sources", sched.leases.holder, len(s.config.sources),  # type: ignore[attr-defined]
             extra={"holder": sched.leases.holder})  # type: ignore[attr-defined]
    _wait_for_signal()
    scheduler.stop(sched)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    s = _settings(args)
    if args.workers < 1:
        print("--workers: at least 1", file=sys.stderr)
        return 2
    if args.workers == 1:
        _run_web(s, s.store(supervise=True), s.history(), args.host, args.port)
        return 0
    import uvicorn

    from dashboard.web import asgi

    s.history()  # migrate once, here, before the workers start
    asgi.prepare_workers(s, args.log_format)
    uvicorn.run("dashboard.web.asgi:create", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", timeout_graceful_shutdown=5)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from collectors import scheduler
    from dashboard import demo

    s = _settings(args)
    store, history = s.store(supervise=True), s.history()
    start = time.fromisoformat(args.clock_at or args.start)
    clock = demo.prepare(s.config, store, history, start, args.speed, pinned=args.clock_at is not None)
    scheduler.poll_all_once(s.config, store, history, s.data_dir)
    sched = scheduler.build_scheduler(s.config, store, history, s.data_dir)
    scheduler.start(sched)
    base = f"http://{args.host}:{args.port}"
    print("\nOhjaustaulu demo is running.", flush=True)
    if clock.shifted:
        print(f"  Outside opening hours: the demo clock shows {clock.now():%a %d.%m.%Y %H.%M}"
              f" (x{clock.speed:g}), and the screens say so.")
    tokens = demo.screens_and_people(s.config, history)
    # weeks of past days for the manager's history, while the screens already run
    def seed() -> None:
        written = demo.seed_days(s.config, history, clock.now().date(), weeks=args.history_weeks)
        print(f"  history: the past weeks are in ({written} changes)", flush=True)

    threading.Thread(target=seed, daemon=True, name="demo-history").start()
    for d in s.config.displays:
        print(f"  wall display ({d.mode}): {base}/display/{d.id}?token={tokens[d.id]}")
    print(f"  shift lead's tablet:   {base}/tablet   (sign in: {demo.PEOPLE[0][0]} / {demo.PASSWORD})")
    print(f"  manager's history:     {base}/history  (sign in: {demo.PEOPLE[1][0]} / {demo.PASSWORD})")
    print(f"  admin:                 {base}/admin    (sign in: {demo.PEOPLE[2][0]} / {demo.PASSWORD})")
    print(f"  data folder:           {s.data_dir}\n", flush=True)
    try:
        _run_web(s, store, history, args.host, args.port)
    finally:
        scheduler.stop(sched)
    return 0


def _run_web(s: Settings, store, history, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from dashboard.web.app import asgi, create_app
    from dashboard.web.asgi import exit_on_term

    app = create_app(s.config, store, history, s.data_dir)
    exit_on_term()
    # Screens hold websockets open for good; on shutdown give them a few seconds, not forever.
    uvicorn.run(asgi(app), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


if __name__ == "__main__":
    sys.exit(main())
