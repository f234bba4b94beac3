"""``--follow`` over the run WebSocket ``GET /api/v1/runs/{runId}/events/ws`` (protocol §6.1).

Contract of :class:`WebSocketSource` (an iterable of tail payloads, like ``PollingSource``):

* It connects first and fetches the initial tail once the first frame arrived, i.e. once the
  server has subscribed: what the replay would repeat is in that tail and everything committed
  later arrives live, so nothing falls between the two; that first replay is skipped. Each live
  ``metrics``/``logs`` message goes through the :class:`~rundial.cli._follow.Window`, and every
  change of the window is yielded.
* Close 1000 "run finished" ends the iteration (exit 0; human mode prints ``run … finished``).
  4401/4403 (or an upgrade refused with HTTP 401/403) raise a CliError with exit code 2; 4404 and
  every other code (4400, 4409, 1011…) exit code 1.
* 4408 "slow consumer", 1001 "server shutting down", a dropped connection (1006) and a failed
  connect reconnect after :data:`BACKOFF_SECONDS` with the last cursor (``replay_done`` and live
  messages carry it; the replay after it is new data and is applied); once a connection
  delivers a frame the count starts over, and when the delays are used up the command ends with
  exit code 1. Until a first ``replay_done`` there is no cursor, so a reconnect fetches the
  tail again instead (the printers print only what they had not).
* An upgrade refused on the very first connection (an older collector, a proxy) falls back to
  the ``fallback`` source (polling) with a warning.
* aiohttp is imported lazily (:func:`available`, then inside the coroutines), never by
  ``import rundial``. One :class:`asyncio.Runner` drives the socket; each frame is awaited with
  ``Runner.run``, so Ctrl-C raises KeyboardInterrupt to the caller and the socket is closed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rundial.cli._errors import EXIT_AUTH, EXIT_ERROR, CliError
from rundial.cli._follow import Payload, Window
from rundial.cli._http import ApiClient, seg
from rundial.cli._output import Output

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BACKOFF_SECONDS", "WebSocketSource", "available"]

BACKOFF_SECONDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # consecutive failed reconnects, then exit 1
HEARTBEAT_SECONDS = 30.0  # our pings: a silently dead connection is noticed within this
CLOSE_SECONDS = 2.0  # how long closing (Ctrl-C, reconnect) waits for the server's close frame
MAX_FRAME_BYTES = 64 * 1024 * 1024  # a logs frame holds ~1 MiB of text, JSON-escaped
RUN_FINISHED = 1000
DROPPED = 1006
AUTH_CODES = frozenset({4401, 4403})
RETRY_CODES = frozenset({1001, DROPPED, 4408})


def available() -> bool:
    """True when aiohttp can be imported."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Closed:
    """Why a connection ended: its close ``code`` (1006 when dropped or never opened) and
    ``reason``, or the HTTP ``status`` of a refused upgrade."""

    code: int
    reason: str = ""
    status: int = 0

    def describe(self) -> str:
        head = f"HTTP {self.status}" if self.status else str(self.code)
        return f"{head} {self.reason}".strip()


@dataclass
class _State:
    cursor: str | None = None  # set by the first replay_done
    failures: int = 0  # consecutive connections that delivered no frame
    opened: bool = False  # an upgrade succeeded once
    fetched: bool = False  # the initial tail was yielded
    status: str | None = None  # the run's last known status


class _Socket:
    """The aiohttp session and the current connection to the run's stream."""

    def __init__(self, client: ApiClient, run_id: str, project_id: str) -> None:
        self._client = client
        self._url = f"{client.endpoint}/api/v1/runs/{seg(run_id)}/events/ws"
        self._project_id = project_id
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self, cursor: str | None) -> Closed | None:
        """Connect (after ``cursor`` when given); None on success, else why not."""
        import aiohttp

        await self._drop()
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)
        params = {"projectId": self._project_id, **({"cursor": cursor} if cursor else {})}
        try:
            async with asyncio.timeout(self._client.timeout):
                self._ws = await self._session.ws_connect(
                    self._url, params=params, headers=self._client._headers(),  # the API headers
                    heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_SECONDS))
        except aiohttp.WSServerHandshakeError as exc:
            return Closed(DROPPED, exc.message, exc.status)
        except TimeoutError:
            return Closed(DROPPED, f"no answer within {self._client.timeout:g} s")
        except (aiohttp.ClientError, OSError) as exc:
            cause = getattr(exc, "os_error", None)  # ClientConnectorError: refused, DNS…
            return Closed(DROPPED, getattr(cause, "strerror", None) or str(exc)
                          or type(exc).__name__)
        return None

    async def receive(self) -> Payload | Closed:
        """The next JSON message, or how the connection ended."""
        import aiohttp

        ws = self._ws
        assert ws is not None
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    message = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    return message
            elif msg.type is aiohttp.WSMsgType.CLOSE:
                return Closed(int(msg.data), str(msg.extra or ""))
            elif msg.type is aiohttp.WSMsgType.ERROR:
                return Closed(DROPPED, str(msg.data) or "connection error")
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return Closed(DROPPED, "connection lost")  # an EOF is no "run finished"

    async def close(self) -> None:
        await self._drop()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def _drop(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()


class WebSocketSource:
    """The initial tail, then the tail after each live update, until the run finishes."""

    def __init__(self, client: ApiClient, run_id: str, project_id: str,
                 fetch: Callable[[], Payload], window: Window, output: Output,
                 fallback: Iterable[Payload]) -> None:
        self._client = client
        self._run_id = run_id
        self._project_id = project_id
        self._fetch = fetch
        self._window = window
        self._output = output
        self._fallback = fallback

    def __iter__(self) -> Iterator[Payload]:
        with asyncio.Runner() as runner:
            socket = _Socket(self._client, self._run_id, self._project_id)
            try:
                yield from self._follow(runner, socket)
            finally:
                runner.run(socket.close())

    def _follow(self, runner: asyncio.Runner, socket: _Socket) -> Iterator[Payload]:
        state = _State()
        while True:
            closed = runner.run(socket.open(state.cursor))
            if closed is None:
                state.opened = True
                closed = yield from self._stream(runner, socket, state)
            elif closed.status not in (0, 401, 403) and not state.opened:
                self._output.warn(f"the collector refused the live stream ({closed.describe()});"
                                  " following by polling")
                yield from self._fallback
                return
            delay = self._retry_delay(closed, state)
            if delay is None:
                if not state.fetched:
                    yield self._initial(state)
                if not self._output.json_mode:
                    self._output.line(f"run {self._run_id} finished"
                                      + (f" ({state.status})" if state.status else ""))
                return
            runner.run(asyncio.sleep(delay))

    def _stream(self, runner: asyncio.Runner, socket: _Socket,
                state: _State) -> Generator[Payload, None, Closed]:
        """Apply the frames of one connection; returns how it ended."""
        fresh = state.cursor is None  # its replay is stood in for by a fetch of the tail
        fetch = fresh
        while True:
            message = runner.run(socket.receive())
            if isinstance(message, Closed):
                return message
            state.failures = 0
            if fetch:  # the server has subscribed: the tail now holds what the replay repeats
                yield self._initial(state)
                fetch = False
            kind = message.get("type")
            cursor = message.get("cursor")
            if isinstance(cursor, str) and (kind == "replay_done" or state.cursor is not None):
                state.cursor = cursor
            if kind == "state":
                self._note_status(message, state)
            elif not (fresh and message.get("replay")):
                yield from self._window.apply(message)

    def _initial(self, state: _State) -> Payload:
        payload = self._fetch()
        self._window.reset(payload)
        state.fetched = True
        return payload

    def _note_status(self, message: Payload, state: _State) -> None:
        status = message.get("status")
        if status == "lost" and state.status != "lost":
            self._output.warn(f"run {self._run_id} reads lost (no data or heartbeat lately); "
                              "still following")
        state.status = status if isinstance(status, str) else state.status

    def _retry_delay(self, closed: Closed, state: _State) -> float | None:
        """None when the run finished; the delay before reconnecting; raises on other ends."""
        if closed.code == RUN_FINISHED and not closed.status:
            return None
        what = f"the live stream of run {self._run_id}"
        if closed.code in AUTH_CODES or closed.status in (401, 403):
            raise CliError(f"{what} was refused: {closed.describe()}", EXIT_AUTH)
        if not closed.status and closed.code not in RETRY_CODES:
            raise CliError(f"{what} ended: {closed.describe()}", EXIT_ERROR)
        if state.failures >= len(BACKOFF_SECONDS):
            raise CliError(f"lost {what}: {closed.describe()} "
                           f"(gave up after {state.failures} reconnects)", EXIT_ERROR)
        delay = BACKOFF_SECONDS[state.failures]
        state.failures += 1
        self._output.warn(f"{what} was interrupted ({closed.describe()}); "
                          f"reconnecting in {delay:g} s")
        return delay
