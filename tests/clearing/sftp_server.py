"""A real SFTP server for the delivery tests: asyncssh's, in a thread with its own event
loop, on a free port of 127.0.0.1, with a generated host key, accepting one generated
client key, its files under a folder of the test's."""

import asyncio
import threading
from pathlib import Path

import asyncssh


class SFTPServer:
    def __init__(self, root: Path, keys: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        keys.mkdir(parents=True, exist_ok=True)
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key_file = keys / "id_ed25519"
        client_key.write_private_key(str(self.client_key_file))
        self.authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
        self.port = 0
        self._server = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.known_hosts = keys / "known_hosts"

    def _run(self, coroutine, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _listen(self):
        return await asyncssh.listen(
            "127.0.0.1",
            self.port,
            reuse_address=True,
            server_host_keys=[self.host_key],
            authorized_client_keys=self.authorized,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(self.root)),
            allow_scp=False,
        )

    def start(self) -> "SFTPServer":
        """Listen (again on the same port after a stop)."""
        self._server = self._run(self._listen())
        self.port = self._server.get_port()
        public = self.host_key.export_public_key("openssh").decode().split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {' '.join(public)}\n")
        return self

    async def _close(self):
        self._server.close()
        await self._server.wait_closed()

    def stop(self) -> None:
        if self._server is not None:
            self._run(self._close())
            self._server = None

    def shutdown(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=20)
        self._loop.close()
