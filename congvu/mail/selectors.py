"""Reading mailboxes: usage as Dovecot counts it, forwards, delegates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from congvu.accounts.selectors import account_by_address
from congvu.errors import CongvuError
from congvu.profiles import Profile


def mailbox_json(profile: Profile, home: Path, address: str) -> dict[str, Any]:
    """``mailbox show``: messages, bytes and quota (from Dovecot when it runs)."""
    from congvu.mail.services import mailbox_usage

    account = account_by_address(profile, address)
    box = getattr(account, "mailbox", None)
    if box is None:
        raise CongvuError(_("%(address)s has no mailbox.") % {"address": account.address})
    messages, size = mailbox_usage(home, account.address)
    return {"address": account.address, "state": account.state, "messages": messages,
            "bytes": size, "quota_bytes": box.quota_bytes,
            "forwards": list(account.forwards.values_list("target", flat=True)),
            "delegates": list(account.delegations.values_list("delegate__address", flat=True))}
