"""Errors the edges (CLI, web) turn into clear messages instead of tracebacks."""

from __future__ import annotations


class CongvuError(Exception):
    """Bad input or a forbidden operation. The message is already translated for the user.

    ``exit_code`` follows the CLI convention: 2 for input the command cannot act on.
    """

    exit_code = 2

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule

    def __str__(self) -> str:
        return self.message


class NotFound(CongvuError):
    """An address, agency or other object named by the user does not exist."""


class Forbidden(CongvuError):
    """The actor may not do this, or the state machine forbids the transition."""
