"""The plugin manager: built-ins and third-party plugins, loaded the same way.

Built-in plugins are registered by import path, exactly as an entry point of
group ``longwatch`` registers a vendor's. ``check_pending`` runs at start-up so
that a misspelled hook implementation fails loudly instead of being ignored.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pluggy

from longwatch import __version__, hookspecs
from longwatch.errors import LongwatchError

DEFAULT_PLUGINS = (
    "longwatch.storage_adapters.local",
    "longwatch.storage_adapters.s3",
    # every built-in command (storage, connectors, custody, dataset, detect, events, users, search, retention,
    # export, jobs, access requests, analytics): one plugin that imports a command module when its hook runs
    "longwatch.commands",
    "longwatch.core.records.locks",  # answers storage's package_record_class and package_protection
    "longwatch.core.records.rebuild",  # answers reindex's replay_ledger: the legal holds
    "longwatch.plugins.connectors.dropfolder",  # the connectors and the jobs: LAZY_PLUGINS below
    "longwatch.plugins.connectors.rtsp",
    "longwatch.plugins.connectors.vendor",
    "longwatch.plugins.detectors.builtin",
    "longwatch.plugins.analytics",
    "longwatch.plugins.journal",  # decisions in the catalog reach the custody ledger after each commit
    "longwatch.plugins.web",
    # each feature's jobs (register_tasks): a worker in any process finds them by name
    "longwatch.core.jobs.queue",
    "longwatch.core.preservation.tasks",
    "longwatch.core.storage.tasks",
    "longwatch.core.events.tasks",
    "longwatch.core.evidence.tasks",
    "longwatch.core.records.tasks",
    "longwatch.core.public.tasks",
)


#: Built-in plugins registered by the hooks they answer, each module imported when one of its hooks first runs
#: (issue 23): the camera connectors and each feature's jobs are about thirty modules (the ingest pipeline's
#: derived packages, evidence exports, dispositions, public requests...) that `longwatch ingest` imported only
#: to build the plugin manager, about 30 ms of CPU beside the digests, for hooks it never calls. Module -> its
#: hooks -> their hookimpl options; ``tests/test_plugins_lazy.py`` checks each entry against the module itself.
LAZY_PLUGINS: dict[str, dict[str, dict[str, bool]]] = {
    "longwatch.plugins.connectors.dropfolder": {"register_camera_connectors": {}},
    "longwatch.plugins.connectors.rtsp": {"register_camera_connectors": {}},
    "longwatch.plugins.connectors.vendor": {"register_camera_connectors": {}},
    "longwatch.core.jobs.queue": {"register_tasks": {}},
    "longwatch.core.preservation.tasks": {"prepare_worker": {}, "register_tasks": {}},
    "longwatch.core.storage.tasks": {"prepare_worker": {"tryfirst": True}, "register_tasks": {}},
    "longwatch.core.events.tasks": {"register_tasks": {}},
    "longwatch.core.evidence.tasks": {"register_tasks": {}},
    "longwatch.core.records.tasks": {"register_tasks": {}},
    "longwatch.core.public.tasks": {"register_tasks": {}},
}


class LazyPlugin:
    """Stands in the plugin manager for a built-in plugin module until one of its hooks runs.

    Each hook in ``hooks`` is a function with the hook's own arguments (pluggy
    reads them from the hook's specification, through ``__wrapped__``) that
    imports the module and calls its implementation with the arguments it
    takes. The module is registered under its own name, so ``plugins``
    lists it as before, with the same hooks.
    """

    def __init__(self, module: str, hooks: dict[str, dict[str, bool]]) -> None:
        self.module = module
        for hook, options in hooks.items():
            setattr(self, hook, _deferred(module, hook, options))

    def __repr__(self) -> str:
        return f"<LazyPlugin {self.module}>"


def _deferred(module: str, hook: str, options: dict[str, bool]) -> Callable[..., Any]:
    spec = getattr(hookspecs, hook)
    names = list(inspect.signature(spec).parameters)

    def call(*args: Any) -> Any:
        implementation = getattr(importlib.import_module(module), hook)
        given = dict(zip(names, args, strict=True))
        return implementation(**{name: given[name] for name in inspect.signature(implementation).parameters})

    call.__wrapped__ = spec  # type: ignore[attr-defined]  # pluggy takes the argument names from here
    call.__name__ = call.__qualname__ = hook
    return hookspecs.hookimpl(call, tryfirst=options.get("tryfirst", False), trylast=options.get("trylast", False))


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("longwatch")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        lazy = LAZY_PLUGINS.get(name)
        pm.register(LazyPlugin(name, lazy) if lazy is not None else importlib.import_module(name), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints("longwatch")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise LongwatchError("P003", detail=str(exc)) from exc
    return pm


def command_plugins(cli: Any) -> None:
    """The commands of the entry-point plugins (group ``longwatch``), added to ``cli``.

    Only those: the built-in commands are listed by ``commands.index`` and imported when one runs, and the
    other built-in plugins answer no ``register_commands``, so the command line does not import them
    (issue 23: they cost a start-up much of the core). A misspelled hook is P003 here as in
    ``get_plugin_manager``.
    """
    pm = pluggy.PluginManager("longwatch")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints("longwatch")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise LongwatchError("P003", detail=str(exc)) from exc
    pm.hook.register_commands(cli=cli)


def _by_name(
    pm: pluggy.PluginManager, hook: str, duplicate_code: str, name_of: Callable[[type[Any]], str] | None = None
) -> dict[str, type[Any]]:
    """NAME -> class over every plugin's ``hook``; two plugins claiming one NAME is ``duplicate_code``."""
    found: dict[str, type[Any]] = {}
    owners: dict[str, str] = {}
    for impl in getattr(pm.hook, hook).get_hookimpls():
        for cls in impl.function() or ():
            name = name_of(cls) if name_of else cls.NAME
            if name in found and found[name] is not cls:
                raise LongwatchError(duplicate_code, name=name, first=owners[name], second=impl.plugin_name)
            found[name], owners[name] = cls, impl.plugin_name
    return found


def storage_adapters(pm: pluggy.PluginManager) -> dict[str, type[Any]]:
    return _by_name(pm, "register_storage_adapters", "P001")


#: The built-in storage adapters that import nothing heavy, by NAME: the ingest command's early pass
#: (core/preservation/early.py) writes through one before the plugin manager is built. S3 is not here: boto3
#: costs more to import than the pass would gain.
LIGHT_STORAGE_ADAPTERS = {"local": "longwatch.storage_adapters.local"}


def light_storage_adapter(name: str) -> type[Any] | None:
    """The built-in adapter class NAME if it is one of ``LIGHT_STORAGE_ADAPTERS``, without any other plugin.

    Why: a command may start writing to staging before the plugin manager (every built-in plugin, about 60
    modules) is built. The plugin manager stays the authority: a plugin claiming the same NAME is P001 when
    the archive opens its storage, and the command then refuses before anything is published.
    """
    module = LIGHT_STORAGE_ADAPTERS.get(name)
    if module is None:
        return None
    for cls in importlib.import_module(module).register_storage_adapters():
        if cls.NAME == name:
            found: type[Any] = cls
            return found
    return None


def camera_connectors(pm: pluggy.PluginManager) -> dict[str, type[Any]]:
    from longwatch.plugins.connectors.base import check_name  # here: ingest's early pass imports this module

    return _by_name(pm, "register_camera_connectors", "N005", check_name)


def detectors(pm: pluggy.PluginManager) -> dict[str, type[Any]]:
    return _by_name(pm, "register_detectors", "D006")


def detector(pm: pluggy.PluginManager, name: str, parameters: dict[str, Any] | None = None) -> Any:
    """A configured detector by NAME; D001 names the installed ones when it is unknown."""
    available = detectors(pm)
    cls = available.get(name)
    if cls is None:
        raise LongwatchError("D001", name=name, available=", ".join(sorted(available)) or "none")
    return cls(**(parameters or {}))


def plugin_list(pm: pluggy.PluginManager) -> list[dict[str, str]]:
    """Every loaded plugin with the distribution and version it came from."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        if dist is not None:
            project, version = dist.project_name, dist.version
        else:
            project, version = "longwatch (built-in)", __version__
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ())
        rows.append({"name": name, "distribution": project, "version": version, "hooks": ",".join(hooks)})
    return rows
