"""Which function runs each kind of job. An app registers its handlers in its own
``jobs.py`` module (``@handler("imports.persons")``); :func:`discover` imports those
modules, the way Django's admin finds ``admin.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from congvu.actors import Actor


class Progress(Protocol):
    def start(self, total: int, stage: str = "") -> None: ...
    def advance(self, done: int, stage: str = "") -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What a handler produced: a JSON summary for the page and/or a file to download."""

    summary: dict[str, Any]
    file: bytes = b""
    file_name: str = ""
    file_type: str = ""


#: handler(actor, params, source bytes, progress) -> Outcome. Raise CongvuError for a
#: failure the user can act on (its message is shown); anything else is logged.
Handler = Callable[[Actor, dict[str, Any], bytes, Progress], Outcome]

HANDLERS: dict[str, Handler] = {}
_discovered = False


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register


def discover() -> None:
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("congvu.") and module_has_submodule(config.module, "jobs"):
            import_module(f"{config.name}.jobs")
    _discovered = True


def handler_for(kind: str) -> Handler | None:
    discover()
    return HANDLERS.get(kind)
