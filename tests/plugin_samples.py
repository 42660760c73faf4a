"""Plugins used by test_plugins.py, loaded through faked entry points (never installed)."""

from __future__ import annotations

from typing import Any

import click
from flask import Blueprint

from longwatch import hookimpl
from longwatch.core.jobs.queue import QUICK, Task
from longwatch.storage_adapters.local import LocalStorageAdapter


class Recorder:
    """Implements every hook and remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def register_storage_adapters(self) -> list[type]:
        self.calls.append(("register_storage_adapters", {}))
        return []

    @hookimpl
    def register_commands(self, cli: Any) -> None:
        self.calls.append(("register_commands", {}))

        @click.command(name="hello-sample")
        def hello() -> None:
            """A command added by a plugin."""
            click.echo("hello from a plugin")

        cli.add_command(hello)

    @hookimpl
    def register_blueprints(self, app: Any) -> list[Blueprint]:
        self.calls.append(("register_blueprints", {}))
        bp = Blueprint("sample", __name__)
        bp.add_url_rule("/sample", "sample", lambda: "from a plugin blueprint")
        return [bp]

    @hookimpl
    def prepare_metadata(self, package_id: str, metadata: dict[str, Any], technical: dict[str, Any]) -> None:
        self.calls.append(("prepare_metadata", {"package_id": package_id}))
        metadata["description"] = "Added by the recorder plugin"
        technical["recorder"] = {"seen": True}

    @hookimpl
    def package_stored(self, package_id: str, location: str, summary: dict[str, Any]) -> None:
        self.calls.append(("package_stored", {"package_id": package_id, "location": location, **summary}))

    @hookimpl
    def fixity_checked(self, package_id: str | None, ok: bool, problems: list[dict[str, Any]]) -> None:
        # accepts fewer arguments than the spec (no ``path``): pluggy passes only what is asked for
        self.calls.append(("fixity_checked", {"package_id": package_id, "ok": ok, "problems": problems}))

    @hookimpl
    def package_record_class(self, package_id: str) -> None:
        # a firstresult hook: None lets the built-in (longwatch.core.records.locks) answer
        self.calls.append(("package_record_class", {"package_id": package_id}))

    @hookimpl
    def package_protection(self, package_id: str) -> None:
        self.calls.append(("package_protection", {"package_id": package_id}))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


recorder = Recorder()


class Misspelled:
    @hookimpl
    def register_storage_adapter(self) -> list[type]:  # the spec is register_storage_adapters
        return []


misspelled = Misspelled()


class OtherLocal(LocalStorageAdapter):
    """A vendor adapter that claims the built-in's NAME."""


class DuplicateName:
    @hookimpl
    def register_storage_adapters(self) -> list[type]:
        return [OtherLocal]


duplicate_name = DuplicateName()


def _echo(archive: Any, text: str = "") -> dict[str, Any]:
    return {"echo": text, "archive": str(archive.root)}


class TaskSample:
    """Declares a job task of its own, run by name like the built-in ones."""

    ECHO = Task("sample_echo", _echo, QUICK)

    @hookimpl
    def register_tasks(self) -> list[Task]:
        return [self.ECHO]


task_sample = TaskSample()


class DuplicateTask:
    """Claims the built-in ``ingest`` task's name."""

    @hookimpl
    def register_tasks(self) -> list[Task]:
        return [Task("ingest", _echo, QUICK)]


duplicate_task = DuplicateTask()
