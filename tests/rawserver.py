"""A raw HTTP/1.1 server on loopback for the connection tests: counts connections and requests."""

from __future__ import annotations

import asyncio


class Server:
    """A raw HTTP/1.1 server on loopback: answers every request with ``body``, counting connections."""

    def __init__(self, body: bytes, *, close: bool = False, hang_up: bool = False) -> None:
        self.body = body
        self.close = close  # say "Connection: close" and hang up after each answer
        self.hang_up = hang_up  # hang up after each answer without saying so (a keep-alive timeout passing)
        self.connections = 0
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                extra = b"Connection: close\r\n" if self.close else b""
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(self.body), extra))
                for start in range(0, len(self.body), 65536):
                    writer.write(self.body[start:start + 65536])
                    await writer.drain()
                if self.close or self.hang_up:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
