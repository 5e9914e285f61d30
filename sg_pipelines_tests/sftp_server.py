"""A real SFTP server on loopback for tests: password auth, a generated host key, a chroot.

`running_sftp_server(root, username, password)` is a context manager yielding the port, the
drop folder and a known_hosts file that pins the server's key, so clients check it for real.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh


@dataclass
class SftpServer:
    port: int
    root: Path
    known_hosts: Path

    def clear(self) -> SftpServer:
        """Empty the drop folder; returns the server for fixture chaining."""
        for path in self.root.iterdir():
            path.unlink()
        return self


@contextmanager
def running_sftp_server(root: Path, username: str, password: str) -> Iterator[SftpServer]:
    """Serve `root` over SFTP on a free loopback port until the block ends."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, asyncssh.SSHAcceptor] = {}

    class PasswordServer(asyncssh.SSHServer):
        def begin_auth(self, username_: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username_: str, password_: str) -> bool:
            return (username_, password_) == (username, password)

    class ChrootSftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
            super().__init__(chan, chroot=str(root).encode())

    async def listen() -> None:
        state["acceptor"] = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=PasswordServer,
            sftp_factory=ChrootSftp,
        )
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listen())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="sftp-server")
    thread.start()
    assert started.wait(10), "the SFTP server did not start"
    acceptor = state["acceptor"]
    port = acceptor.get_port()
    known_hosts = root.parent / f"known_hosts_{port}"
    public = host_key.export_public_key().decode().split()[:2]
    known_hosts.write_text(f"[127.0.0.1]:{port} {' '.join(public)}\n")
    try:
        yield SftpServer(port, root, known_hosts)
    finally:
        loop.call_soon_threadsafe(acceptor.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
