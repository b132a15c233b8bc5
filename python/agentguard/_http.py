"""A small HTTP/1.1 client for the sidecar: one request per connection, a deadline over the whole exchange.

The response parser is shared (fed bytes, it knows when the answer is complete), so the blocking client (sockets) and
the asyncio client (``asyncio.open_connection``, never a thread pool) read answers the same way.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

#: Largest answer accepted; a sidecar answer is a few KiB, anything this large is not one.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024


class TransportError(Exception):
    """No usable HTTP answer: refused, reset, timed out, or not HTTP."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class HttpResponse:
    status: int
    #: Header names in lower case; the last value of a repeated header.
    headers: Dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    #: The base path, without a trailing slash ("" for the root).
    base_path: str

    @property
    def display(self) -> str:
        """The URL as shown in messages: no credentials, no path, no query."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    """Splits a sidecar base URL; raises ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"must start with http:// or https://, got {parts.scheme or 'no scheme'}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold credentials; pass the token as `token`")
    if not parts.hostname:
        raise ValueError("names no host")
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError(f"has an invalid port ({error})") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return Endpoint(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


def build_request(endpoint: Endpoint, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]) -> bytes:
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    lines = [f"{method} {endpoint.base_path}{path} HTTP/1.1", f"Host: {host}:{endpoint.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class ResponseParser:
    """Fed the bytes of one HTTP/1.1 answer; ``done`` once it is complete (Content-Length, chunked, or at EOF)."""

    def __init__(self, method: str) -> None:
        self._buffer = bytearray()
        self._method = method
        self._head: Optional[Tuple[int, Dict[str, str]]] = None
        self._body = bytearray()
        self._length: Optional[int] = None
        self._chunked = False
        self._chunk_left = -1  # -1: a chunk-size line is next
        self.done = False

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        self._buffer += data
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    raise TransportError("the answer's headers are too large")
                return
            self._head = self._parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
        self._consume()

    def _parse_head(self, raw: bytes) -> Tuple[int, Dict[str, str]]:
        lines = raw.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit() or len(status_line[1]) != 3:
            raise TransportError("the answer is not HTTP")
        status = int(status_line[1])
        headers: Dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise TransportError("the answer has a malformed header line")
            headers[name.lower()] = value.strip()
        encoding = headers.get("transfer-encoding", "").lower()
        if encoding:
            if encoding != "chunked":
                raise TransportError(f"the answer uses an unsupported transfer-encoding ({encoding[:40]})")
            self._chunked = True
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise TransportError("the answer has an invalid Content-Length")
            self._length = int(length)
            if self._length > MAX_RESPONSE_BYTES:
                raise TransportError("the answer is too large")
        if self._method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._length = 0
            self._chunked = False
        return status, headers

    def _consume(self) -> None:
        if self._chunked:
            self._consume_chunks()
        else:
            self._body += self._buffer
            self._buffer.clear()
            if len(self._body) > MAX_RESPONSE_BYTES:
                raise TransportError("the answer is too large")
            if self._length is not None and len(self._body) >= self._length:
                del self._body[self._length :]
                self.done = True

    def _consume_chunks(self) -> None:
        while True:
            if self._chunk_left < 0:
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    return
                size = bytes(self._buffer[:end]).split(b";", 1)[0].strip()
                try:
                    self._chunk_left = int(size, 16)
                except ValueError:
                    raise TransportError("the answer's chunked body is malformed") from None
                del self._buffer[: end + 2]
                if self._chunk_left == 0:
                    # Trailers are not read: the body is complete.
                    self.done = True
                    return
            if len(self._buffer) < self._chunk_left + 2:
                return
            self._body += self._buffer[: self._chunk_left]
            if len(self._body) > MAX_RESPONSE_BYTES:
                raise TransportError("the answer is too large")
            del self._buffer[: self._chunk_left + 2]
            self._chunk_left = -1

    def eof(self) -> HttpResponse:
        """The answer at the end of the stream; raises TransportError when it ended before the answer did."""
        if self._head is None:
            raise TransportError("the connection closed before an answer" if not self._buffer else "the connection closed in the middle of the answer's headers")
        if not self.done:
            if self._chunked or self._length is not None:
                raise TransportError("the connection closed before the whole answer arrived")
            self.done = True
        return self.response()

    def response(self) -> HttpResponse:
        assert self._head is not None
        return HttpResponse(self._head[0], self._head[1], bytes(self._body))


def _ssl_context(endpoint: Endpoint) -> Optional[ssl.SSLContext]:
    return ssl.create_default_context() if endpoint.scheme == "https" else None


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "ECONNREFUSED"
    if isinstance(error, ConnectionResetError):
        return "ECONNRESET"
    if isinstance(error, socket.gaierror):
        return "ENOTFOUND"
    name = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(name)


def request_sync(endpoint: Endpoint, method: str, path: str, headers: Dict[str, str], body: Optional[bytes], timeout_s: float) -> HttpResponse:
    """One blocking request; the deadline covers connecting, sending and reading the whole answer."""
    deadline = time.monotonic() + timeout_s

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransportError("timed out", timed_out=True)
        return left

    parser = ResponseParser(method)
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=remaining())
    except socket.timeout:
        raise TransportError("timed out", timed_out=True) from None
    except OSError as error:
        raise TransportError(_describe(error)) from None
    try:
        sock: socket.socket = raw
        context = _ssl_context(endpoint)
        if context is not None:
            sock.settimeout(remaining())
            sock = context.wrap_socket(raw, server_hostname=endpoint.host)
        sock.settimeout(remaining())
        sock.sendall(build_request(endpoint, method, path, headers, body))
        while not parser.done:
            sock.settimeout(remaining())
            data = sock.recv(65536)
            if not data:
                return parser.eof()
            parser.feed(data)
        return parser.response()
    except socket.timeout:
        raise TransportError("timed out", timed_out=True) from None
    except TransportError:
        raise
    except (OSError, ssl.SSLError) as error:
        raise TransportError(_describe(error)) from None
    finally:
        try:
            raw.close()
        except OSError:
            pass


async def request_async(endpoint: Endpoint, method: str, path: str, headers: Dict[str, str], body: Optional[bytes], timeout_s: float) -> HttpResponse:
    """One request on the running event loop (asyncio streams); the deadline covers the whole exchange."""
    try:
        return await asyncio.wait_for(_exchange(endpoint, method, path, headers, body), timeout=timeout_s)
    except asyncio.TimeoutError:
        raise TransportError("timed out", timed_out=True) from None


async def _exchange(endpoint: Endpoint, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]) -> HttpResponse:
    context = _ssl_context(endpoint)
    try:
        if context is not None:
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port, ssl=context, server_hostname=endpoint.host)
        else:
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
    except OSError as error:
        raise TransportError(_describe(error)) from None
    parser = ResponseParser(method)
    try:
        writer.write(build_request(endpoint, method, path, headers, body))
        await writer.drain()
        while not parser.done:
            data = await reader.read(65536)
            if not data:
                return parser.eof()
            parser.feed(data)
        return parser.response()
    except TransportError:
        raise
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as error:
        raise TransportError(_describe(error)) from None
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
