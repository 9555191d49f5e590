"""The center's request path on the database drivers themselves, on the event loop: psycopg's
asyncio connections (pooled by ``psycopg_pool``) on PostgreSQL, one ``aiosqlite`` connection per
process on SQLite.

Why not SQLAlchemy here: one small statement cost, in CPU time of the center process on the
development machine, 540 µs through SQLAlchemy Core's asyncio engine, 320 µs through its
synchronous engine and 114 µs through psycopg itself (see docs/decisions.md). A request makes
a few statements, so SQLAlchemy cost more than the rest of the request together. The schema and
its migrations stay with SQLAlchemy and Alembic (``tables.py``, ``center/migrations``), as do the
command line and the operators' tools: the handful of statements of the request path are
written here once, with ``:name`` parameters, and each driver gets them in its own style.

Values are stored as SQLAlchemy stores them, so both sides read each other's rows: on SQLite a
time is UTC text ``YYYY-MM-DD HH:MM:SS.ffffff``; on PostgreSQL a ``timestamptz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiosqlite
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Row = dict[str, Any]
Params = Mapping[str, Any]
# a pool as large as the requests one process serves at once, so none waits for a connection
POOL_SIZE = 20
PING_AFTER_IDLE = 10.0  # seconds


class Sql:
    """One statement, written once with ``:name`` parameters."""

    def __init__(self, text: str) -> None:
        self.sqlite = text
        self.postgresql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text)

    def __repr__(self) -> str:
        return f"Sql({self.sqlite!r})"


class Connection:
    """One connection of the pool, lent for one unit of work: statements run at once (autocommit)
    unless inside :meth:`transaction`."""

    dialect: str

    async def one(self, sql: Sql, params: Params | None = None) -> Row | None:
        raise NotImplementedError

    async def all(self, sql: Sql, params: Params | None = None) -> list[Row]:
        raise NotImplementedError

    async def execute(self, sql: Sql, params: Params | None = None) -> int:
        """Run one statement; the number of rows it changed."""
        raise NotImplementedError

    async def execute_many(self, sql: Sql, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    async def send(self, sql: Sql, params: Params | None = None) -> Reply:
        """Run one statement whose answer is read later, from the :class:`Reply`. Inside
        :meth:`pipelined`, on PostgreSQL, it travels to the server with the statements sent
        after it, up to the first whose answer is awaited."""
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Commit on leaving, roll back on an exception. On SQLite the write lock is taken first."""
        raise NotImplementedError

    def pipelined(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Statements sent inside travel together (PostgreSQL's pipeline mode): the server is
        waited for only when an answer is needed, and once for all statements sent before it.
        A :meth:`transaction` inside costs no round trip of its own to begin or to commit.
        Nothing changes on SQLite (no round trips)."""
        return contextlib.nullcontext()


class Reply:
    """The answer of a statement sent with :meth:`Connection.send`: read it once, one way."""

    async def one(self) -> Row | None:
        """Its first row (``None``: it returned none)."""
        raise NotImplementedError

    async def changed(self) -> int:
        """The number of rows it changed."""
        raise NotImplementedError


class _Postgres(Connection):
    dialect = "postgresql"

    def __init__(self, connection: psycopg.AsyncConnection[Row]) -> None:
        self._connection = connection
        self._pipeline: psycopg.AsyncPipeline | None = None

    async def one(self, sql: Sql, params: Params | None = None) -> Row | None:
        cursor = await self._connection.execute(sql.postgresql, params, prepare=True)
        return await cursor.fetchone()

    async def all(self, sql: Sql, params: Params | None = None) -> list[Row]:
        cursor = await self._connection.execute(sql.postgresql, params, prepare=True)
        return await cursor.fetchall()

    async def execute(self, sql: Sql, params: Params | None = None) -> int:
        cursor = await self._connection.execute(sql.postgresql, params, prepare=True)
        return cursor.rowcount

    async def execute_many(self, sql: Sql, rows: Iterable[Params]) -> None:
        async with self._connection.cursor() as cursor:
            await cursor.executemany(sql.postgresql, list(rows))

    async def send(self, sql: Sql, params: Params | None = None) -> Reply:
        cursor = self._connection.cursor()
        await cursor.execute(sql.postgresql, params, prepare=True)
        return _PostgresReply(cursor, self._pipeline)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._pipeline is None:
            async with self._connection.transaction():
                yield
            return
        # in a pipeline, BEGIN and COMMIT travel with the statements around them: psycopg's own
        # transaction() would wait for the server on entering and twice on leaving
        await self._connection.execute("BEGIN")
        yield
        await self._connection.execute("COMMIT")

    @contextlib.asynccontextmanager
    async def pipelined(self) -> AsyncIterator[None]:
        async with self._connection.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield
            except BaseException:
                # a statement failed (or the caller did): the statements queued after it are
                # answered "aborted"; they are read here, so the pipeline ends cleanly (what the
                # server began is rolled back as the pool takes the connection back)
                with contextlib.suppress(psycopg.errors.PipelineAborted):
                    await pipeline.sync()
                raise
            finally:
                self._pipeline = None


class _PostgresReply(Reply):
    def __init__(self, cursor: psycopg.AsyncCursor[Row], pipeline: psycopg.AsyncPipeline | None) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    async def one(self) -> Row | None:
        async with self._cursor:
            return await self._cursor.fetchone()

    async def changed(self) -> int:
        async with self._cursor:
            if self._cursor.pgresult is None and self._pipeline is not None:
                await self._pipeline.sync()  # its answer has not come back yet
            return self._cursor.rowcount


class _Answered(Reply):
    """An answer already read (SQLite runs each statement at once)."""

    def __init__(self, row: Row | None, changed: int) -> None:
        self._row = row
        self._changed = changed

    async def one(self) -> Row | None:
        return self._row

    async def changed(self) -> int:
        return self._changed


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_params(params: Params | None) -> dict[str, Any]:
    return {} if params is None else {name: _sqlite_value(value) for name, value in params.items()}


def _sqlite_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class _Sqlite(Connection):
    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def one(self, sql: Sql, params: Params | None = None) -> Row | None:
        async with self._connection.execute(sql.sqlite, _sqlite_params(params)) as cursor:
            row: Row | None = await cursor.fetchone()  # type: ignore[assignment]
            return row

    async def all(self, sql: Sql, params: Params | None = None) -> list[Row]:
        async with self._connection.execute(sql.sqlite, _sqlite_params(params)) as cursor:
            rows: list[Row] = list(await cursor.fetchall())  # type: ignore[arg-type]
            return rows

    async def execute(self, sql: Sql, params: Params | None = None) -> int:
        async with self._connection.execute(sql.sqlite, _sqlite_params(params)) as cursor:
            return cursor.rowcount

    async def execute_many(self, sql: Sql, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql.sqlite, [_sqlite_params(row) for row in rows])

    async def send(self, sql: Sql, params: Params | None = None) -> Reply:
        async with self._connection.execute(sql.sqlite, _sqlite_params(params)) as cursor:
            row: Row | None = await cursor.fetchone()  # type: ignore[assignment]
            return _Answered(row, cursor.rowcount)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        await self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self._connection.rollback()
            raise
        await self._connection.commit()


def stored_time(value: Any) -> dt.datetime:
    """A time read back from either database, as an aware UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Database:
    """The connections of one center process to its database (SQLAlchemy-style URL)."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE, wait: float = 30.0) -> None:
        """``wait``: seconds a unit of work waits for a connection (PostgreSQL) before failing."""
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self._path = url.removeprefix("sqlite:///")
        elif url.startswith(("postgresql+psycopg://", "postgresql://")):
            self.dialect = "postgresql"
            self._conninfo = "postgresql://" + url.split("://", 1)[1]
        else:
            raise ValueError("the center's database is sqlite:///PATH or postgresql+psycopg://…")
        self._pool_size = pool_size
        self._wait = wait
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] | None = None
        self._sqlite: aiosqlite.Connection | None = None
        self._returned_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self._opening = asyncio.Lock()
        self._sqlite_turn = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection for one unit of work. On SQLite the process has one, lent to one unit
        of work at a time (SQLite serialises writers anyway)."""
        if self.dialect == "postgresql":
            pool = self._pool or await self._open_pool()
            async with pool.connection() as connection:
                yield _Postgres(connection)
        else:
            async with self._sqlite_turn:
                yield _Sqlite(self._sqlite or await self._open_sqlite())

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None

    async def _open_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Row]]:
        async with self._opening:
            if self._pool is None:

                async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
                    await connection.set_autocommit(True)

                pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] = AsyncConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._pool_size,
                    open=False,
                    kwargs={"row_factory": dict_row},
                    configure=configure,
                    reset=self._returned,
                    check=self._check_if_idle,
                    max_idle=60.0,
                    timeout=self._wait,
                )
                await pool.open(wait=True, timeout=self._wait)
                self._pool = pool
            return self._pool

    async def _returned(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._returned_at[connection] = time.monotonic()

    async def _check_if_idle(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """A connection idle for :data:`PING_AFTER_IDLE` is tested before it is lent (a dead one
        is replaced: the database restarted meanwhile); one in use moments ago is not (a round
        trip more for every unit of work)."""
        returned = self._returned_at.get(connection)
        if returned is None or time.monotonic() - returned >= PING_AFTER_IDLE:
            await AsyncConnectionPool.check_connection(connection)

    async def _open_sqlite(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self._path, timeout=30, isolation_level=None)
        connection.row_factory = _sqlite_row  # type: ignore[assignment]
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            await connection.execute(f"PRAGMA {pragma}")
        self._sqlite = connection
        return connection
