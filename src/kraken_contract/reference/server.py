"""Running the reference deployment: in a background thread (tests) or in the foreground (the CLI)."""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

import uvicorn

from kraken_contract.reference.app import build_app
from kraken_contract.reference.store import Store, load_seed
from kraken_contract.reference.switches import SWITCHES, checked_switches
from kraken_contract.reference.tokens import TokenIssuer

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


@dataclass(frozen=True)
class ReferenceConfig:
    switches: frozenset[str] = frozenset()
    db_path: str | None = None  # SQLite file; None = in memory
    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port

    def __post_init__(self) -> None:
        object.__setattr__(self, "switches", checked_switches(self.switches))


class ReferenceDeployment:
    """One reference server. It listens from construction on, so `url` is known before start()."""

    def __init__(self, config: ReferenceConfig = ReferenceConfig()) -> None:
        self.config = config
        self.seed = load_seed(config.switches)
        self.store = Store(config.db_path)
        self.store.seed(self.seed)
        self.tokens = TokenIssuer()
        self.app = build_app(self.store, self.tokens, config.switches)
        self._socket = _bound_socket(config.host, config.port)
        port = self._socket.getsockname()[1]
        host = f"[{config.host}]" if ":" in config.host else config.host
        self.url = f"http://{host}:{port}/v1/graphql/"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"ReferenceDeployment({self.url!r}, switches={sorted(self.config.switches)})"

    def _new_server(self) -> uvicorn.Server:
        if self._server is not None or self._closed:
            raise RuntimeError("a ReferenceDeployment can only be started once")
        config = uvicorn.Config(
            self.app,
            log_config=None,
            # "Invalid HTTP request received." is the client's problem (fuzzers send such requests on purpose).
            log_level="error",
            access_log=False,
            lifespan="off",
            date_header="no-date-header" not in self.config.switches,
        )
        self._server = uvicorn.Server(config)
        return self._server

    def start(self) -> ReferenceDeployment:
        """Serve in a daemon thread; returns once the server accepts connections."""
        server = self._new_server()
        # In a thread that is not the main one, uvicorn installs no signal handlers.
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name=repr(self), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not self._thread.is_alive():
                self._close()
                raise RuntimeError(f"{self!r} failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self!r} did not start within {STARTUP_TIMEOUT} s")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._socket.close()
            self.store.close()

    def __enter__(self) -> ReferenceDeployment:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C (or SIGTERM)."""
        server = self._new_server()
        try:
            server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the captured SIGINT once it has shut down cleanly
        finally:
            self._close()

    def environment(self) -> dict[str, str]:
        """The KRAKEN_* variables that point the contract suite at this deployment."""
        primary = self.seed.user_with_role("primary")
        secondary = self.seed.user_with_role("secondary")
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
        return {
            "KRAKEN_URL": self.url,
            "KRAKEN_API_KEY": primary.api_key,
            "KRAKEN_AUTH_SCHEME": "bare" if "auth-bare-only" in self.config.switches else "JWT",
            "KRAKEN_BUNDLE_ID": self.seed.bundle_id,
            "KRAKEN_AMBIGUOUS_BUNDLE_ID": self.seed.ambiguous_bundle_id,
            "KRAKEN_SECONDARY_JWT": self.tokens.mint(secondary.id)[0],
            "KRAKEN_EXPIRED_JWT": self.tokens.mint(primary.id, issued_at=two_hours_ago)[0],
        }


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections (else 40 ms delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening right away: a client that connects before start() waits instead of being refused.
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


# ---------------------------------------------------------------------------------------------- CLI
def switch_table() -> str:
    rows = [("NAME", "KIND", "GROUP", "DESCRIPTION")]
    rows += [(switch.name, switch.kind, switch.group, switch.description) for switch in SWITCHES.values()]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    )


def serve_main(argv: list[str] | None = None) -> int:
    """`kraken-contract serve`: run a reference deployment in the foreground."""
    parser = argparse.ArgumentParser(
        prog="kraken-contract serve",
        description="Run the reference deployment of the Kraken push-notification API slice. Prints "
        "`export KRAKEN_...=...` lines (for eval) that point the contract suite at it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 = a free port")
    parser.add_argument(
        "--fault",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="switch on a fault or conformant variant (repeatable; see --list-faults)",
    )
    parser.add_argument("--db", metavar="PATH", help="SQLite file to keep the data in (default: memory)")
    parser.add_argument("--list-faults", action="store_true", help="list the faults and variants, then exit")
    args = parser.parse_args(argv)

    if args.list_faults:
        print(switch_table())
        return 0
    for name in args.fault:
        if name not in SWITCHES:
            print(f"kraken-contract serve: unknown fault {name!r} (see --list-faults)", file=sys.stderr)
            return 2

    config = ReferenceConfig(frozenset(args.fault), db_path=args.db, host=args.host, port=args.port)
    try:
        deployment = ReferenceDeployment(config)
    except OSError as error:
        print(
            f"kraken-contract serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    for name, value in deployment.environment().items():
        print(f"export {name}={shlex.quote(value)}")
    sys.stdout.flush()
    switched_on = ", ".join(sorted(config.switches)) or "no faults"
    print(f"serving {deployment.url} ({switched_on}) (Ctrl-C to stop)", file=sys.stderr)
    deployment.serve_forever()
    return 0
