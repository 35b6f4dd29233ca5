"""A throwaway PostgreSQL server for the tests (Debian's postgresql, installed by `make test`)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid

from tests.helpers import free_port


def _bindir() -> str | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(cand, "initdb")):
            return cand
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


class Postgres:
    def __init__(self):
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are missing: `make test` installs "
                               "Debian's postgresql")
        self.bin = bindir
        self.root = tempfile.mkdtemp(prefix="vbank-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:                        # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o755)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run([f"{bindir}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-instructions"])
        self._run([f"{bindir}/pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w", "-t", "60",
                   "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                         f"-c synchronous_commit=off -c full_page_writes=off", "start"])

    def _run(self, cmd: list[str]) -> None:
        r = subprocess.run(self.as_user + cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed: {r.stdout}\n{r.stderr}")

    def new_database(self) -> str:
        import psycopg
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
