"""The calibrations kept on this device: listed, switched (one active or none), renamed, deleted,
exported to a file and imported from one; the active one handed to the face analyser.

Storage is browser.calibration_store (IndexedDB); which one is active is the setting
Settings.calibration (its id, "" for the generic net), kept in localStorage with the other
settings so it survives a reload. Every record is re-checked by moodcam.calibration's parser
when it is switched on (a record made for another emotion model is refused, never applied).
An import that fails changes nothing: the file is parsed and checked in full before anything
is written. Page parts (index.html): #calibration-select, #calibration-list, #calibration-name,
#calibration-rename, #calibration-delete, #calibration-export, #calibration-file (import),
#calibration-status; the HUD's #hud-calibration and <html data-calibration> (the active name,
"" for the generic net).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

from ..calibration import CalibrationFit, CalibrationFormatError, CalibrationHead, calibration_to_json
from .calibration_records import (CONFIRM_DELETE_LABEL, DELETE_LABEL, GENERIC, BadName, CalibrationRecord,
                                  DeleteConfirm, clean_name, created_text, file_name, new_id,
                                  read_calibration_file, record_caption, select_options)
from .calibration_store import CalibrationStore, StoreError
from .interop import now_ms, unix_ms
from .messages import DownloadMessage, Post
from .ui import Ui

MAX_FILE_BYTES = 1_000_000       # a head is tens of KB; anything far larger is not one of ours


class CalibrationLibrary:
    def __init__(self, ui: Ui, store: CalibrationStore, *, model: Callable[[], tuple[str, int, tuple[str, ...]]],
                 active_id: Callable[[], str], set_active_id: Callable[[str], None],
                 apply: Callable[[CalibrationHead | None], None], post: Post) -> None:
        self.ui = ui
        self.store = store
        self._model = model                 # (emotion model sha256, feature size, labels) of the loaded net
        self._active_id = active_id
        self._set_active_id = set_active_id
        self._apply = apply
        self._post = post
        self.records: list[CalibrationRecord] = []
        self._confirm = DeleteConfirm()

    # == showing ===================================================================================
    def say(self, text: str) -> None:
        self.ui.text("calibration-status", text)
        if text:
            self.ui.announce(text)

    def _show(self, active: CalibrationRecord | None) -> None:
        ui = self.ui
        self._confirm.withdraw()            # the list changed: a pending "Confirm delete" no longer stands
        ui.text("calibration-delete", DELETE_LABEL)
        ui.options("calibration-select", select_options(self.records), active.id if active else "")
        ui.items("calibration-list", [record_caption(r, r is active) for r in self.records])
        for element_id in ("calibration-delete", "calibration-export", "calibration-rename"):
            ui.prop(element_id, "disabled", active is None)
        ui.prop("calibration-name", "value", active.name if active else "")
        ui.prop("calibration-name", "disabled", active is None)
        name = active.name if active else GENERIC
        ui.text("hud-calibration", name)
        ui.data("calibration", active.name if active else "")

    def _find(self, record_id: str) -> CalibrationRecord | None:
        return next((r for r in self.records if r.id == record_id), None)

    def _parse(self, record: CalibrationRecord) -> CalibrationFit:
        sha, size, labels = self._model()
        return read_calibration_file(record.body, model_sha256=sha, feature_size=size, emotion_labels=labels)[1]

    # == the page's messages =========================================================================
    async def load(self) -> None:
        """At boot: list what is stored and switch the remembered one back on."""
        try:
            self.records = await self.store.all()
        except StoreError as error:
            self.records = []
            self._show(None)
            self.say(str(error))
            return
        await self.use(self._active_id(), quiet=True)

    async def use(self, record_id: str, *, quiet: bool = False) -> None:
        """Switch `record_id` on ("" = the generic net); a record that fails its check stays off."""
        record = self._find(record_id) if record_id else None
        if record_id and record is None:
            self.say("That calibration is no longer stored here; reading with the generic net.")
        head = None
        if record is not None:
            try:
                head = self._parse(record).head
                self._apply(head)
            except ValueError as error:        # CalibrationFormatError, or a head the net cannot feed
                self.say(f"“{record.name}” cannot be used: {error}. Reading with the generic net.")
                record, head = None, None
        if head is None:
            self._apply(None)
        self._set_active_id(record.id if record else "")
        self._show(record)
        if not quiet:
            self.say(f"Reading with “{record.name}”." if record else f"Reading with the {GENERIC}.")

    async def switch_off(self, reason: str) -> None:
        """The active calibration failed while reading (FrameLogic already dropped its head): the generic
        net from now on, the remembered choice cleared (as if the person had chosen it), and why."""
        record = self._find(self._active_id())
        await self.use("", quiet=True)
        name = f"“{record.name}”" if record else "The calibration"
        self.say(f"{name} was switched off: {reason}. Reading with the {GENERIC}; you can delete it, or teach "
                 "it anew.")

    async def add(self, name: str, fit: CalibrationFit) -> str | None:
        """Keep a fresh calibration and switch it on; the problem to show when it cannot be kept."""
        sha, _size, _labels = self._model()
        created = unix_ms()
        body = json.dumps(calibration_to_json(name, fit, sha))
        record = CalibrationRecord(new_id(created, {r.id for r in self.records}), name, created, body)
        try:
            await self.store.put(record)
        except StoreError as error:
            return str(error)
        self.records.append(record)
        await self.use(record.id, quiet=True)
        return None

    async def rename(self, record_id: str, name: Any) -> None:
        record = self._find(record_id)
        if record is None:
            return
        try:
            renamed = record.renamed(name)
        except BadName as error:
            self.say(str(error))
            return
        # The name inside the body follows, so an export carries the new name.
        data = json.loads(renamed.body)
        data["name"] = renamed.name
        renamed = CalibrationRecord(renamed.id, renamed.name, renamed.created_ms, json.dumps(data))
        try:
            await self.store.put(renamed)
        except StoreError as error:
            self.say(str(error))
            return
        self.records = [renamed if r.id == record_id else r for r in self.records]
        self._show(self._find(self._active_id()))
        self.say(f"Renamed to “{renamed.name}”.")

    async def delete(self, record_id: str) -> None:
        """The first press asks (the button reads "Confirm delete" for DeleteConfirm's window); a
        second press on the same record within it deletes."""
        record = self._find(record_id)
        if record is None:
            return
        now = now_ms()
        if not self._confirm.press(record_id, now):
            self.ui.text("calibration-delete", CONFIRM_DELETE_LABEL)
            seconds = round(self._confirm.window_ms / 1000)
            self.say(f"Delete “{record.name}” from this device? It cannot be undone (Export keeps a copy). "
                     f"Press “{CONFIRM_DELETE_LABEL}” within {seconds} s to delete it.")
            await asyncio.sleep(self._confirm.window_ms / 1000)
            if self._confirm.expired(now):
                self.ui.text("calibration-delete", DELETE_LABEL)
                self.say(f"“{record.name}” was kept.")
            return
        self.ui.text("calibration-delete", DELETE_LABEL)
        try:
            await self.store.delete(record_id)
        except StoreError as error:
            self.say(str(error))
            return
        self.records = [r for r in self.records if r.id != record_id]
        if self._active_id() == record_id:
            await self.use("", quiet=True)
        else:
            self._show(self._find(self._active_id()))
        self.say(f"Deleted “{record.name}” from this device; reading with the "
                 f"{'generic net' if not self._active_id() else 'same calibration'}.")

    def export(self, record_id: str) -> None:
        """A download made here (like Save session): nothing is uploaded."""
        record = self._find(record_id)
        if record is None:
            return
        self._post(DownloadMessage(file_name(record.name), "application/json", record.body))
        self.say(f"“{record.name}” saved to a file on this device.")

    async def import_file(self, file: Any, file_label: str) -> None:
        """Check the chosen file in full, then keep it and switch it on; any problem changes nothing."""
        size = int(getattr(file, "size", 0) or 0)
        if size > MAX_FILE_BYTES:
            self.say(f"{file_label} was not imported: {size // 1000} KB is far more than a calibration file "
                     f"(at most {MAX_FILE_BYTES // 1000} KB); choose a file exported by moodcam.")
            return
        try:
            text = str(await file.text())
        except Exception as error:  # noqa: BLE001 - a rejected read (the file moved or went away): name it
            self.say(f"{file_label} was not imported: it could not be read ({type(error).__name__}); choose it "
                     "again. Nothing was changed.")
            return
        sha, size_d, labels = self._model()
        try:
            name, fit = read_calibration_file(text, model_sha256=sha, feature_size=size_d, emotion_labels=labels)
            name = clean_name(name)
        except (CalibrationFormatError, BadName) as error:
            self.say(f"{file_label} was not imported: {error}. Nothing was changed.")
            return
        problem = await self.add(name, fit)
        self.say(problem or f"Imported “{name}” ({created_text(unix_ms())}) and switched it on.")
