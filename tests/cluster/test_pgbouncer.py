"""A node refuses to start through a pgbouncer in transaction mode (its LISTEN would never hear
a NOTIFY), and says why; through pgbouncer in session mode it runs."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cluster.harness import PG_URL, Node, free_port, pg_database, wait_for
from tests.conftest import require_tool

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(180)]


class PgBouncer:
    def __init__(self, database: str, mode: str) -> None:
        require_tool(shutil.which("pgbouncer") is not None, "pgbouncer (Debian package)")
        assert PG_URL is not None
        self.port = free_port()
        # pgbouncer will not run as root: it drops to postgres, which must read these files.
        self.directory = Path(tempfile.mkdtemp(prefix="gw-pgbouncer-"))
        self.directory.chmod(0o755)
        name = make_url(database).database
        (self.directory / "users.txt").write_text('"postgres" ""\n')
        (self.directory / "pgbouncer.ini").write_text(
            f"[databases]\n{name} = host=127.0.0.1 port=5432 dbname={name}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"auth_type = trust\nauth_file = {self.directory / 'users.txt'}\n"
            f"pool_mode = {mode}\nunix_socket_dir =\nmax_client_conn = 100\n"
            f"default_pool_size = 10\nignore_startup_parameters = extra_float_digits\n"
        )
        for path in self.directory.iterdir():
            path.chmod(0o644)
        self.url = make_url(database).set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False
        )
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> PgBouncer:
        args = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.process = await asyncio.create_subprocess_exec(
            "pgbouncer", *args, str(self.directory / "pgbouncer.ini"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )

        async def listening() -> bool:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True

        await wait_for(listening, 20)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


async def test_transaction_pooling_is_detected_and_session_pooling_works(
    tmp_path: Path,
) -> None:
    async with pg_database() as url:
        async with PgBouncer(url, "transaction") as bouncer:
            node = Node("pooled", tmp_path / "tx", bouncer.url,
                        modems=[{"name": "p1", "number": "+15550500001", "simulator": True}])
            await node.start(wait=False)
            assert node.process is not None
            async with asyncio.timeout(60):
                code = await node.process.wait()
            assert code == 1
            log = node.log()
            assert "pool_mode = session" in log, log[-2000:]

        async with PgBouncer(url, "session") as bouncer:
            node = Node("pooled", tmp_path / "session", bouncer.url,
                        modems=[{"name": "p1", "number": "+15550500001", "simulator": True}])
            try:
                await node.start()
            finally:
                await node.stop()
