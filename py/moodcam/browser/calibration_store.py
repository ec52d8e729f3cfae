"""Calibrations kept on this device, in IndexedDB (it exists in workers and on the page).

One database, DB_NAME, one object store of records keyed by id: {id, name, created_ms,
body}, where body is the export file's JSON text (moodcam.calibration.calibration_to_json),
so a stored calibration and an exported one are the same bytes and both are checked by the
same parser when read back. Which one is active is a setting (Settings.calibration, in
localStorage), not kept here. Nothing here leaves the device.

Each IndexedDB request is awaited through a Promise whose resolve/reject are the request's
own handlers, so no Python callable outlives its call (the executor is a once-callable);
only the database's upgrade handler is a proxy (in a ProxyBag), released once the database is open.
"""
from __future__ import annotations

from typing import Any

from .calibration_records import CalibrationRecord
from .interop import ProxyBag, indexed_db, js_object, promise

DB_NAME = "moodcam-calibrations"
DB_VERSION = 1
STORE = "calibrations"


class StoreError(RuntimeError):
    """IndexedDB refused (private mode, storage full, blocked): the message says what to do."""


async def _settled(target: Any, ok: str, bad: tuple[str, ...]) -> None:
    """Wait for `target`'s `ok` event; any of `bad` raises StoreError."""
    def executor(resolve: Any, reject: Any) -> None:
        setattr(target, ok, resolve)
        for name in bad:
            setattr(target, name, reject)
    try:
        await promise(executor)
    except Exception as error:  # noqa: BLE001 - a rejected IDB event: name its error
        problem = getattr(target, "error", None)
        detail = str(problem.message) if problem is not None else str(error)
        raise StoreError(f"The browser's storage refused ({detail}). Storage may be off (private mode) "
                         f"or full: allow site storage, or free space, and try again.") from None


class CalibrationStore:
    def __init__(self) -> None:
        self._db: Any = None

    async def _open(self) -> Any:
        if self._db is not None:
            return self._db
        factory = indexed_db()
        if factory is None:
            raise StoreError("This browser has no IndexedDB here, so calibrations cannot be kept. "
                             "Use a current browser outside private mode.")
        try:
            request = factory.open(DB_NAME, DB_VERSION)
        except Exception as error:  # noqa: BLE001 - SecurityError where storage is off for this page
            raise StoreError(f"The browser's storage is off for this page ({error}); allow site storage "
                             "to keep calibrations.") from None

        def upgrade(event: Any) -> None:
            db = request.result
            if not db.objectStoreNames.contains(STORE):
                db.createObjectStore(STORE, js_object({"keyPath": "id"}))
        upgrading = ProxyBag()
        request.onupgradeneeded = upgrading.wrap(upgrade)
        try:
            await _settled(request, "onsuccess", ("onerror", "onblocked"))
        finally:
            request.onupgradeneeded = None
            upgrading.release()
        self._db = request.result
        return self._db

    async def _run(self, mode: str, method: str, *args: Any) -> Any:
        """One request on the store in its own transaction; its result once the transaction is done."""
        db = await self._open()
        tx = db.transaction(STORE, mode)
        request = getattr(tx.objectStore(STORE), method)(*args)
        await _settled(tx, "oncomplete", ("onerror", "onabort"))
        return request.result

    async def all(self) -> list[CalibrationRecord]:
        """Every stored record, oldest first (an unreadable record is left out, not fatal)."""
        rows = await self._run("readonly", "getAll")
        records = []
        for row in rows.to_py() if rows is not None else []:
            record = CalibrationRecord.from_row(row)
            if record is not None:
                records.append(record)
        return sorted(records, key=lambda r: (r.created_ms, r.id))

    async def get(self, record_id: str) -> CalibrationRecord | None:
        row = await self._run("readonly", "get", record_id)
        return CalibrationRecord.from_row(row.to_py()) if row is not None else None

    async def put(self, record: CalibrationRecord) -> None:
        await self._run("readwrite", "put", js_object(record.to_row()))

    async def delete(self, record_id: str) -> None:
        await self._run("readwrite", "delete", record_id)
