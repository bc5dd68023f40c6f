"""Where a deployment lives and what it says: ``$CONGVU_HOME`` and its ``congvu.toml``.

``$CONGVU_HOME`` (default ``./var``) selects the deployment; ``DATABASE_URL`` selects
PostgreSQL, and an empty or unset ``DATABASE_URL`` means the embedded SQLite database in
``$CONGVU_HOME``. The settings file names the profile and may override any profile value
in ``[profile.<section>]`` tables.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from congvu.profiles import Profile, build_profile, merge, raw_profile

SETTINGS_FILE = "congvu.toml"
SQLITE_FILE = "congvu.sqlite3"


def home() -> Path:
    """The deployment folder, absolute."""
    return Path(os.environ.get("CONGVU_HOME") or "var").resolve()


def settings_path() -> Path:
    return home() / SETTINGS_FILE


def is_initialised() -> bool:
    return settings_path().is_file()


@cache
def read_config() -> dict[str, Any]:
    """The deployment's settings file, or an empty dict before ``congvu init``."""
    path = settings_path()
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def database_url() -> str:
    """``DATABASE_URL`` if set and non-empty, else the embedded SQLite file."""
    return os.environ.get("DATABASE_URL", "").strip()


def deployment_profile() -> Profile:
    """The deployment's profile with its overrides applied."""
    from django.utils.translation import gettext as _

    from congvu.errors import CongvuError

    config = read_config()
    if not config:
        raise CongvuError(
            _("No deployment in %(home)s. Run 'congvu init --profile NAME' first "
              "(CONGVU_HOME selects the deployment).") % {"home": home()}
        )
    return _profile_from(config["profile_name"], config.get("profile", {}))


@cache
def _cached_profile(name: str, overrides_key: str) -> Profile:
    import json

    return build_profile(merge(raw_profile(name), json.loads(overrides_key)))


def _profile_from(name: str, overrides: dict[str, Any]) -> Profile:
    import json

    return _cached_profile(name, json.dumps(overrides, sort_keys=True, default=str))


def reset_caches() -> None:
    """Forget cached settings (tests switch deployments within one process)."""
    read_config.cache_clear()
    _cached_profile.cache_clear()
