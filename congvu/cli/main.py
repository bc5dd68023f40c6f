"""The ``congvu`` command: the operators' interface, thin over the domain actions."""

from __future__ import annotations

import os
import sys

import click

from congvu.cli.common import CongvuGroup


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django
    from django.conf import settings
    from django.utils import translation

    if not settings.configured or not django.apps.apps.ready:
        django.setup()
    translation.activate(os.environ.get("CONGVU_LANG") or settings.LANGUAGE_CODE)


@click.group(cls=CongvuGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="congvu")
def cli() -> None:
    """congvu: official e-mail, shared accounts and eOffice for a province."""


_setup_django()


def _register() -> None:
    import importlib

    for name in ("deploy", "org", "naming", "passwords", "workdays", "accounts", "audit",
                 "mail", "sso", "webmail", "roles", "requests", "reports", "imports", "eoffice"):
        importlib.import_module(f"congvu.cli.{name}").register(cli)


_register()


def main() -> None:
    sys.exit(cli.main(prog_name="congvu"))


if __name__ == "__main__":
    main()
