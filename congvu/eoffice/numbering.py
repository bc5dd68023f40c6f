"""Taking the next number of a register: gapless, never repeated, concurrency-safe.

The number is taken in the transaction that records it. The register's counter row is
created if missing (``INSERT … ON CONFLICT DO NOTHING``, so two first numberings of a
year cannot both create it) and then locked (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite:
the transaction already holds the database's write lock, congvu opens every transaction
``IMMEDIATE``). Whoever numbers next waits until this transaction ends; if it rolls back,
so does the counter, and the number is taken again: no gap, no duplicate.
"""

from __future__ import annotations

from django.db import transaction

from congvu.eoffice.models import Register


def take_number(agency_id: int, year: int, series: str) -> int:
    """The next number of ``agency_id``'s ``series`` register for ``year`` (from 1)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_number must run inside the transaction that records it")
    Register.objects.bulk_create([Register(agency_id=agency_id, year=year, series=series)],
                                 ignore_conflicts=True)
    register = Register.objects.select_for_update().get(agency_id=agency_id, year=year,
                                                        series=series)
    register.last_number += 1
    register.save(update_fields=["last_number"])
    return register.last_number
