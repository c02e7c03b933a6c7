"""Reading a response body with the size limit counted after decompression.

The limit protects memory and disk, so it must count what we keep: the decoded
bytes. httpx's own decoders inflate a whole network chunk at once (a 64 KiB
chunk of a gzip bomb becomes tens of megabytes before anyone can count it), so
we read the raw stream and inflate with ``zlib``'s ``max_length``, never
producing more than one byte past the limit.

Decoded: ``gzip`` (``x-gzip``, multi-member), ``deflate`` (zlib-wrapped or raw,
as servers send both) and ``identity``. We advertise only these
(``Accept-Encoding: gzip, deflate``); any other or chained encoding is kept as
received, undecoded, and the limit then counts those bytes.
"""

from __future__ import annotations

import zlib

from archiver.errors import FetchError

ACCEPT_ENCODING = "gzip, deflate"
_GZIP = zlib.MAX_WBITS | 16
_ZLIB = zlib.MAX_WBITS
_RAW = -zlib.MAX_WBITS


class BodyDecodeError(FetchError):
    """The body does not decode with the Content-Encoding the server declared.

    The bytes decoded until then are kept; the server sent a broken body.
    """


class BodyReader:
    """Accumulates a decoded body up to ``limit`` bytes; ``truncated`` once it would exceed it."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.encoding = (content_encoding or "identity").strip().lower()
        if self.encoding == "x-gzip":
            self.encoding = "gzip"
        self.decoded = self.encoding in ("gzip", "deflate")  # False: bytes kept as received
        self.truncated = False
        self._body = bytearray()
        self._decoder: zlib._Decompress | None = zlib.decompressobj(_GZIP) if self.encoding == "gzip" else None
        self._head = b""  # deflate: the first bytes, until the wrapper can be told

    @property
    def body(self) -> bytes:
        return bytes(self._body)

    @property
    def full(self) -> bool:
        """Nothing more will be kept: stop reading the network."""
        return self.truncated

    def feed(self, raw: bytes) -> None:
        if self.truncated or not raw:
            return
        if not self.decoded:
            self._keep(raw)
            return
        if self._decoder is None:  # deflate, wrapper not yet known
            self._head += raw
            if len(self._head) < 2:
                return
            raw, self._head = self._head, b""
            zlib_wrapped = raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
            self._decoder = zlib.decompressobj(_ZLIB if zlib_wrapped else _RAW)
        self._inflate(raw)

    def finish(self) -> None:
        """The stream ended: flush what the decoder still holds."""
        if self.truncated or not self.decoded:
            return
        if self._decoder is None:
            if self._head:  # a one-byte deflate body
                self._decoder = zlib.decompressobj(_RAW)
                self._inflate(self._head)
            return
        try:
            self._keep(self._decoder.flush())
        except zlib.error as exc:
            raise BodyDecodeError(f"cannot decode {self.encoding} body: {exc}") from None

    def _inflate(self, data: bytes) -> None:
        decoder = self._decoder
        assert decoder is not None
        try:
            while data and not self.truncated:
                room = self.limit - len(self._body)
                out = decoder.decompress(data, room + 1)  # max_length 0 would mean "unlimited"
                self._keep(out)
                data = decoder.unconsumed_tail
                if decoder.eof:
                    data = decoder.unused_data
                    if self.encoding != "gzip" or not data.strip(b"\0"):
                        return  # trailing garbage after a deflate stream is ignored, like httpx
                    decoder = self._decoder = zlib.decompressobj(_GZIP)  # next gzip member
        except zlib.error as exc:
            raise BodyDecodeError(f"cannot decode {self.encoding} body: {exc}") from None

    def _keep(self, data: bytes) -> None:
        room = self.limit - len(self._body)
        if len(data) > room:
            self._body += data[:room]
            self.truncated = True
        else:
            self._body += data
