"""Command line of the emulator: ``python3 tests/emulator [options]`` (see ``--help``).

Builds or loads the dataset, sets up TLS, starts the server, prints exactly one line
``EM emulator listening on <base>`` (flushed) once the socket accepts connections, and exits 0
on SIGTERM/SIGINT after closing the listening socket.
"""
import argparse
import gc
import json
import signal
import socket
import sys
import threading
import time

from .auth import default_accounts
from .generator import generate
from .model import Dataset
from .server import Server, start_ticker
from .state import DEFAULT_EM_VERSION, EM_VERSIONS, EmulatorState
from .tasks import Clock
from .timeutil import parse_dt


def build_parser():
    p = argparse.ArgumentParser(
        prog="python3 tests/emulator",
        description="Veeam Backup Enterprise Manager REST API emulator (real HTTPS server on loopback).")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9398, help="port (default 9398; 0 = pick a free port)")
    g = p.add_argument_group("data")
    g.add_argument("--vms", type=int, default=50, help="generated fleet: number of VMs (default 50)")
    g.add_argument("--days", type=int, default=7, help="generated fleet: days of history (default 7)")
    g.add_argument("--seed", type=int, default=1, help="generated fleet: random seed (default 1)")
    g.add_argument("--dataset", metavar="FILE", help="load this JSON dataset instead of generating one")
    g.add_argument("--dump-dataset", metavar="FILE", help="write the dataset as JSON to FILE ('-' = stdout) and"
                   " keep running (add --dump-only to exit)")
    g.add_argument("--dump-only", action="store_true", help="with --dump-dataset: exit after writing")
    g.add_argument("--now", metavar="ISO", help="fixed clock, e.g. 2025-06-05T12:00:00Z (default: real now)")
    t = p.add_argument_group("transport")
    t.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    t.add_argument("--tls-dir", metavar="DIR", help="write the CA certificate to DIR/ca.pem (default: a temp dir)")
    t.add_argument("--latency-ms", type=float, default=0, help="delay added to every /api response (ms)")
    a = p.add_argument_group("behaviour")
    a.add_argument("--username", default="emadmin", help="Portal Administrator user (default emadmin)")
    a.add_argument("--password", default="emadmin-Pass1", help="its password (default emadmin-Pass1)")
    a.add_argument("--session-idle-seconds", type=float, default=900, help="logon session idle expiry (default 900)")
    a.add_argument("--task-seconds", type=float, default=2.0, help="Task lifecycle duration (default 2)")
    a.add_argument("--faults", metavar="JSON", help="start-up fault spec (JSON text or @file)")
    a.add_argument("--em-version", choices=EM_VERSIONS, default=DEFAULT_EM_VERSION,
                   help="Enterprise Manager version to answer as (default %s): 13 writes JSON keys in "
                        "camelCase and a 1900-01-01 placeholder end time on running sessions; 12 writes "
                        "PascalCase JSON and omits the end time of running sessions. XML is the same in both."
                        % DEFAULT_EM_VERSION)
    a.add_argument("--running-end-time", metavar="ISO",
                   help="end time written on running sessions ('' = none; default: per --em-version), "
                        "e.g. 0001-01-01T00:00:00")
    a.add_argument("--as-of", action="store_true",
                   help="answer as EM would at the data clock: no session created after it, the sessions "
                        "that ended after it still running (off by default; see README, 'As-of view')")
    a.add_argument("--late-collection", metavar="JSON",
                   help="with --as-of: backup servers EM could not reach, JSON list of "
                        "{\"server\": name, \"from\": ISO, \"until\": ISO}; their sessions of that time "
                        "appear from 'until' on")
    return p


def load_dataset(args, now):
    if args.dataset:
        with open(args.dataset, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
        return Dataset.from_json(doc)
    return generate(args.vms, args.days, args.seed, now)


def _fail(parser, message):
    parser.print_usage(sys.stderr)
    sys.stderr.write("%s: error: %s\n" % (parser.prog, message))
    return 2


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        fixed = parse_dt(args.now) if args.now else None
    except ValueError as e:
        return _fail(parser, "--now: %s" % e)
    clock = Clock(fixed)
    t0 = time.time()
    # the dataset lives as long as the process: build it without cyclic-GC passes, then freeze it
    # so later collections do not rescan ~200k long-lived objects on every request
    gc.disable()
    try:
        ds = load_dataset(args, clock.now())
    except (OSError, ValueError, KeyError, TypeError) as e:
        return _fail(parser, "--dataset %s: %s: %s" % (args.dataset, type(e).__name__, e))
    finally:
        gc.freeze()
        gc.enable()
    build_s = time.time() - t0
    if args.dump_dataset:
        text = json.dumps(ds.to_json(), ensure_ascii=False, indent=1)
        if args.dump_dataset == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(args.dump_dataset, "w", encoding="utf-8") as fh:
                fh.write(text)
        if args.dump_only:
            return 0
    scheme = "http" if args.http else "https"
    state = EmulatorState(ds, clock, default_accounts(args.username, args.password),
                          idle_seconds=args.session_idle_seconds, task_seconds=args.task_seconds,
                          latency_ms=args.latency_ms, scheme=scheme, em_version=args.em_version,
                          running_end_time=args.running_end_time)
    if args.as_of or args.late_collection:
        try:
            state.set_view(args.as_of, json.loads(args.late_collection) if args.late_collection else [])
        except ValueError as e:
            return _fail(parser, "--as-of/--late-collection: %s" % e)
    if args.faults:
        spec = args.faults
        try:
            if spec.startswith("@"):
                with open(spec[1:], encoding="utf-8") as fh:
                    spec = fh.read()
            state.faults.add(json.loads(spec))
        except (OSError, ValueError, TypeError) as e:
            return _fail(parser, "--faults: %s" % e)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    try:
        # bound before the TLS files are written: an emulator already on the port keeps the CA its clients trust
        server = Server((args.host, args.port), state, None, family)
    except OSError as e:
        return _fail(parser, "--host %s --port %s: %s" % (args.host, args.port, e))
    if not args.http:
        from .tls import make_server_context
        server.ssl_ctx, ca_path = make_server_context(args.tls_dir)  # requests are served from here on
        if not args.tls_dir:
            sys.stderr.write("EM emulator CA certificate: %s\n" % ca_path)
    port = server.server_address[1]
    host = "[%s]" % args.host if family == socket.AF_INET6 else args.host
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="serve", daemon=True)
    serve.start()
    start_ticker(state)
    sys.stderr.write("EM emulator (EM %s): %d servers, %d jobs, %d backup / %d replica task sessions"
                     " (built in %.2fs)\n" % (args.em_version, len(ds.servers), len(ds.jobs), len(ds.backup_ts),
                                              len(ds.replica_ts), build_s))
    sys.stderr.flush()
    sys.stdout.write("EM emulator listening on %s://%s:%d\n" % (scheme, host, port))
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    state.stop_event.set()
    server.shutdown()
    server.server_close()
    return 0
