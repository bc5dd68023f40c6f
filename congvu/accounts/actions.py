"""Writing accounts: every change is a ``do_*`` function with an explicit actor, run in
one transaction, audited in that same transaction. The CLI, web and tasks call these."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth.hashers import check_password as check_hash
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from congvu.accounts import lifecycle
from congvu.accounts.models import (
    Account,
    AccountKind,
    AccountState,
    Alias,
    Mailbox,
    PasswordHistory,
    ReservedName,
)
from congvu.accounts.naming import parse_person_name, person_agency_abbr, suggest_person
from congvu.accounts.passwords import check_password, generate_one_time_password
from congvu.accounts.selectors import taken_local_parts
from congvu.accounts.signals import access_revoked
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.clock import start_of_day
from congvu.directory.models import SENIOR_KINDS, Agency, AgencyKind, Person
from congvu.directory.search import index_account
from congvu.directory.selectors import agency_by_ref, node_of
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Profile

S = AccountState
_LOCAL_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
_MB = 1024 * 1024


class PasswordRejected(CongvuError):
    """The new password breaks the policy; exit code 1 like ``password check``."""

    exit_code = 1


def _fresh(account: Account) -> Account:
    """The account as it is now in the database, locked for this transaction (the caller's
    copy may be stale: a sweep may have changed its state meanwhile)."""
    return (Account.objects.select_for_update(of=("self",))
            .select_related("person", "agency", "person__agency").get(pk=account.pk))


def require_not_stranding(actor: Actor, account: Account) -> None:
    """A person may not suspend, lock or delete their own account (a misplaced click must
    not lock them out), and nobody may take the province's last active operator out of
    service (no one could grant roles or restore accounts again). The scheduled rules
    (system actors) still apply to everyone."""
    if actor.kind == "system":
        return
    if actor.account_id is not None and actor.account_id == account.pk:
        raise Forbidden(_("You cannot suspend, lock or delete your own account "
                          "(%(address)s); another operator can.") % {
            "address": account.address})
    if account.is_operator and account.state == S.ACTIVE:
        # Lock every operator row so two such changes cannot both pass the check.
        others = list(Account.objects.select_for_update().filter(
            is_operator=True, state=S.ACTIVE).exclude(pk=account.pk)
            .values_list("pk", flat=True))
        if not others:
            raise Forbidden(_("%(address)s is the last active operator; make someone else "
                              "an operator first.") % {"address": account.address})


def require_manage(actor: Actor, agency: Agency | None) -> None:
    ancestors = [a.pk for a in agency.ancestors()] if agency else []
    actor.require_agency(agency.pk if agency else None, ancestors)


def ensure_name_free(profile: Profile, local: str,
                      agency: Agency | None = None) -> ReservedName | None:
    """Raise unless ``local`` may be handed out; return the agency's own reservation when
    an agency's mailbox takes the name its agency reserved."""
    domain = profile.mail.domain
    existing = ReservedName.objects.filter(domain=domain, local_part=local).first()
    if existing is None:
        return None
    if (existing.kind == ReservedName.Kind.AGENCY and agency is not None
            and existing.agency_id == agency.pk and existing.account_id is None):
        return existing
    state = _("a tombstone of a deleted account") if existing.tombstoned_at else _("in use")
    raise CongvuError(_("The address %(address)s is %(state)s and cannot be given out.") % {
        "address": f"{local}@{domain}", "state": state})


def reserve_name(profile: Profile, local: str, kind: str, now: dt.datetime, *,
             account: Account | None = None, agency: Agency | None = None) -> None:
    """Record ``local`` in the address namespace (checked free beforehand)."""
    own = ensure_name_free(profile, local, agency)
    if own is not None:
        own.account = account
        own.save(update_fields=["account"])
        return
    ReservedName.objects.create(local_part=local, domain=profile.mail.domain, kind=kind,
                                account=account, agency=agency, created_at=now)


def _issue_one_time_password(profile: Profile, account: Account, now: dt.datetime) -> str:
    """A random one-time password, never a fixed default (GL-6.2 done safely); the holder
    must change it at first sign-in (NB-6.3, QN-5.3, NT-6.3c, KH-4.2)."""
    otp = generate_one_time_password(profile.password)
    account.set_password(otp)
    account.must_change_password = True
    account.must_change_reason = profile.password.change_first_login_rule
    account.one_time_password_issued_at = now
    return otp


def _new_account(profile: Profile, *, local: str, kind: str, agency: Agency | None,
                 person: Person | None, requested: bool, now: dt.datetime,
                 is_operator: bool = False) -> tuple[Account, str | None]:
    domain = profile.mail.domain
    account = Account(
        address=f"{local}@{domain}", local_part=local, domain=domain, kind=kind,
        person=person, agency=agency, is_operator=is_operator,
        state=S.REQUESTED if requested else S.ACTIVE, state_changed_at=now, created_at=now,
        activated_at=None if requested else now,
    )
    otp = None
    if requested:
        account.set_unusable_password()
    else:
        otp = _issue_one_time_password(profile, account, now)
    account.save()
    if kind != AccountKind.OPERATOR:
        quota_mb = (profile.mail.quota_agency_mb if kind == AccountKind.AGENCY
                    else profile.mail.quota_personal_mb)
        Mailbox.objects.create(account=account, quota_bytes=quota_mb * _MB, created_at=now)
    return account, otp


def _validate_local_part(profile: Profile, local: str) -> str:
    value = local.strip().lower()
    if not _LOCAL_RE.match(value) or len(value) > profile.naming.max_local_part:
        raise CongvuError(_("Invalid address name %(local)r: use a–z, 0–9 and . _ - between "
                            "them, at most %(max)d characters.") % {
            "local": local, "max": profile.naming.max_local_part})
    return value


def _department_of(agency: Agency, ref: str) -> Agency:
    """A department (phòng/ban) of ``agency`` named by abbreviation or account name."""
    key = ref.strip().lower()
    found = Agency.objects.filter(parent=agency, kind=AgencyKind.DEPARTMENT).filter(
        Q(abbr=key) | Q(account_name=key)).first()
    if found is None:
        raise CongvuError(_("%(agency)s has no department %(ref)r (add it with 'congvu org add "
                            "--kind department --parent %(agency)s').") % {
            "agency": agency.account_name, "ref": ref})
    return found


def do_create_account(
    *,
    actor: Actor,
    profile: Profile,
    agency_ref: str,
    full_name: str,
    now: dt.datetime,
    leader: bool = False,
    birth_date: dt.date | None = None,
    position: str = "",
    local_part: str | None = None,
    requested: bool = False,
    department_ref: str | None = None,
) -> tuple[Account, str | None]:
    """Create a person's account and mailbox with the profile's address (NB-5.3, KH-3.3a,
    QN-4.1, NT-4.2a; collisions NB-5.4, KH-3.3b, QN-4.2, NT-4.2b). ``local_part`` is the
    operator's pick among the ranked candidates. Returns the one-time password, once."""
    with transaction.atomic():
        node = agency_by_ref(agency_ref)
        require_manage(actor, node)
        if department_ref:
            node = _department_of(node, department_ref)
        agency, department = node, None
        if node.kind == AgencyKind.DEPARTMENT:
            department = node
            agency = next(a for a in node.ancestors() if a.kind != AgencyKind.DEPARTMENT)
        given = parse_person_name(full_name, rule=profile.naming.person_rule).given
        taken = taken_local_parts(profile.mail.domain, containing=given)
        abbr = person_agency_abbr(profile, node_of(node))
        suggestion = suggest_person(profile, full_name, agency=abbr, taken=taken, leader=leader)
        rule = suggestion.rule
        local = suggestion.local_part
        if local_part:
            local = _validate_local_part(profile, local_part)
            rule = profile.naming.collision_rule
        ensure_name_free(profile, local)
        person = Person.objects.create(
            full_name=" ".join(full_name.split()), position=position.strip(), agency=agency,
            department=department, is_leader=leader, birth_date=birth_date, created_at=now)
        account, otp = _new_account(profile, local=local, kind=AccountKind.PERSON, agency=agency,
                                    person=person, requested=requested, now=now)
        reserve_name(profile, local, ReservedName.Kind.ACCOUNT, now, account=account)
        index_account(account)  # the directory finds the person by their address too
        record(actor=actor, action="account.create", at=now, target=account.address, rule=rule,
               data={"agency": node.account_name, "state": account.state, "leader": leader,
                     "candidates": list(suggestion.candidates)})
    return account, otp


def do_create_agency_mailbox(*, actor: Actor, profile: Profile, agency_ref: str,
                             now: dt.datetime) -> tuple[Account, str | None]:
    """The agency's own mailbox at its reserved account name (NB-5.1/5.2, KH-2.3)."""
    with transaction.atomic():
        agency = agency_by_ref(agency_ref)
        require_manage(actor, agency)
        if Account.objects.filter(kind=AccountKind.AGENCY, agency=agency).exists():
            raise CongvuError(_("%(agency)s already has its agency mailbox.") % {
                "agency": agency.account_name})
        ensure_name_free(profile, agency.account_name, agency)
        account, otp = _new_account(profile, local=agency.account_name, kind=AccountKind.AGENCY,
                                    agency=agency, person=None, requested=False, now=now)
        reserve_name(profile, agency.account_name, ReservedName.Kind.AGENCY, now, account=account,
                 agency=agency)
        record(actor=actor, action="account.create", at=now, target=account.address,
               rule=agency.naming_rule, data={"kind": "agency"})
    return account, otp


def do_create_operator(*, actor: Actor, profile: Profile, local_part: str,
                       now: dt.datetime) -> tuple[Account, str]:
    """An operator account (province IT operator); the one-time password is shown once."""
    with transaction.atomic():
        local = _validate_local_part(profile, local_part)
        ensure_name_free(profile, local)
        account, otp = _new_account(profile, local=local, kind=AccountKind.OPERATOR, agency=None,
                                    person=None, requested=False, now=now, is_operator=True)
        reserve_name(profile, local, ReservedName.Kind.OPERATOR, now, account=account)
        record(actor=actor, action="operator.create", at=now, target=account.address)
    assert otp is not None
    return account, otp


def do_activate(*, actor: Actor, profile: Profile, account: Account, now: dt.datetime) -> str:
    """A requested account is approved: active with a one-time password."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        lifecycle.ensure_transition(account, S.ACTIVE)
        otp = _issue_one_time_password(profile, account, now)
        account.save()
        lifecycle.apply_transition(Account.objects.filter(pk=account.pk), to=S.ACTIVE,
                                   rule=profile.naming.person_rule, reason="", now=now,
                                   actor=actor, action="account.activate")
    return otp


def do_change_password(*, profile: Profile, account: Account, current: str, new: str,
                       now: dt.datetime, keep_sid: str = "") -> None:
    """The holder changes their password: the current one must match; the new one must
    meet the profile's policy (NB-8.2b, QN-8, NT-7) and not repeat a recent one. Every
    other SSO session ends (single sign-out); ``keep_sid`` names the one that stays."""
    with transaction.atomic():
        account = _fresh(account)
        _require_active_for_password(account)
        if not account.has_usable_password() or not check_hash(current, account.password):
            raise CongvuError(_("The current password is wrong."))
        _set_new_password(profile, account, new, now, current=current, keep_sid=keep_sid)


def do_set_password_at_sign_in(*, profile: Profile, account: Account, new: str,
                               now: dt.datetime) -> None:
    """The forced change at sign-in (NB-6.3, QN-5.3, NT-6.3c, KH-4.2, GL-6.2; expired
    password NB-8.2a): the sign-in page has just verified the current password, so it is
    not asked again. Only for an account that must change its password."""
    with transaction.atomic():
        account = _fresh(account)
        _require_active_for_password(account)
        if not account.must_change_password:
            raise Forbidden(_("Account %(address)s has no pending password change.") % {
                "address": account.address})
        _set_new_password(profile, account, new, now, current=None, keep_sid="")


def _require_active_for_password(account: Account) -> None:
    if account.state != S.ACTIVE:
        raise Forbidden(_("Account %(address)s is %(state)s (%(reason)s); only an active "
                          "account can change its password.") % {
            "address": account.address, "state": account.state,
            "reason": account.reason or "—"})


def _set_new_password(profile: Profile, account: Account, new: str, now: dt.datetime, *,
                      current: str | None, keep_sid: str) -> None:
    actor = Actor(kind="self", label=f"self:{account.address}", account_id=account.pk)
    person = account.person
    problems = [v.message for v in check_password(
        profile.password, new, username=account.address,
        full_name=person.full_name if person else "",
        birth_date=person.birth_date if person else None)]
    same = new == current if current is not None else check_hash(new, account.password)
    if same:
        problems.append(_("The new password must differ from the current one."))
    recent = list(account.password_history.values_list("password", flat=True)
                  [: max(profile.password.history - 1, 0)])
    if not same and any(check_hash(new, old) for old in recent):
        problems.append(_("The new password repeats one of the last %(n)d passwords.") % {
            "n": profile.password.history})
    if problems:
        raise PasswordRejected("\n".join(problems), rule=profile.password.rule)
    PasswordHistory.objects.create(account=account, password=account.password, created_at=now)
    account.set_password(new)
    account.must_change_password = False
    account.must_change_reason = ""
    account.one_time_password_issued_at = None
    account.password_changed_at = now
    account.save()
    record(actor=actor, action="account.change_password", at=now, target=account.address,
           rule=profile.password.rule)
    access_revoked.send(sender=Account, account_ids=[account.pk], reason="password", now=now,
                        keep_sid=keep_sid)


def do_reset_password(*, actor: Actor, profile: Profile, account: Account,
                      now: dt.datetime) -> str:
    """Password re-issue on the agency's request (KH-4.2, QN-6): a new one-time password
    the holder must change at first use."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        if account.state != S.ACTIVE:
            raise Forbidden(_("Account %(address)s is %(state)s; use 'account restore' for a "
                              "suspended account.") % {"address": account.address,
                                                       "state": account.state})
        otp = _issue_one_time_password(profile, account, now)
        account.save()
        record(actor=actor, action="account.reset_password", at=now, target=account.address,
               rule=profile.password.change_first_login_rule)
        access_revoked.send(sender=Account, account_ids=[account.pk], reason="password",
                            now=now, keep_sid="")
    return otp


def do_suspend(*, actor: Actor, profile: Profile, account: Account, now: dt.datetime,
               rule: str, reason: str) -> None:
    """Suspend: no sign-in, but the mailbox still receives (NB-7.1, NT-6.1). Manual triggers:
    virus or leaked password (NB-7.2c, NT-6.2b), prohibited activity (NB-7.2d, NT-6.2c)."""
    if not (rule or reason).strip():
        raise CongvuError(_("Give the rule (--rule, e.g. NB-7.2c) or a reason (--reason)."))
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        require_not_stranding(actor, account)
        lifecycle.ensure_transition(account, S.SUSPENDED)
        lifecycle.apply_transition(Account.objects.filter(pk=account.pk), to=S.SUSPENDED,
                                   rule=rule or "operator", reason=reason, now=now, actor=actor,
                                   action="account.suspend", profile=profile)


def do_restore(*, actor: Actor, profile: Profile, account: Account, now: dt.datetime) -> str:
    """Restore a suspended (or wrongly locked) account: verified by the operator, a new
    one-time password to change at first sign-in (NB-7.3, NT-6.3, KH-4.2)."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        lifecycle.ensure_transition(account, S.ACTIVE)
        otp = _issue_one_time_password(profile, account, now)
        account.leave_effective_at = account.leave_lock_at = account.leave_delete_at = None
        account.leave_rule = ""
        account.save()
        lifecycle.apply_transition(Account.objects.filter(pk=account.pk), to=S.ACTIVE,
                                   rule=profile.lifecycle.restore_rule, reason="", now=now,
                                   actor=actor, action="account.restore")
    return otp


def is_senior(account: Account) -> bool:
    """NT-5.2c: leaders of a sở/ban/ngành, a district UBND or above (by the leader flag and
    the kind of unit they lead)."""
    person = account.person
    return bool(person and person.is_leader and person.department_id is None
                and person.agency.kind in SENIOR_KINDS)


def do_leave(*, actor: Actor, profile: Profile, account: Account, effective: dt.date,
             now: dt.datetime) -> None:
    """Record that the holder leaves on ``effective`` and schedule the profile's lock and
    deletion (NB-7.4, NT-5.2c, KH-4.4, QN-7.1); what is already due happens now."""
    policy = profile.lifecycle.leave
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        require_not_stranding(actor, account)
        if account.state in (S.LOCKED, S.DELETED):
            raise Forbidden(_("Account %(address)s is already %(state)s.") % {
                "address": account.address, "state": account.state})
        if account.state == S.REQUESTED:
            raise Forbidden(_("Account %(address)s was only requested; cancel the request "
                              "with 'account delete' instead.") % {"address": account.address})
        senior = is_senior(account)
        lock_after = policy.senior_lock_after if senior else policy.lock_after
        delete_after = policy.senior_delete_after if senior else policy.delete_after
        rule = policy.senior_rule if senior else policy.rule
        start = start_of_day(effective, profile.timezone)
        account.leave_effective_at = start
        account.leave_rule = rule
        account.leave_lock_at = lock_after.after(start) if lock_after else start
        account.leave_delete_at = delete_after.after(start) if delete_after else None
        account.save()
        record(actor=actor, action="account.leave", at=now, target=account.address, rule=rule,
               data={"effective": effective.isoformat(), "senior": senior,
                     "lock_at": account.leave_lock_at.isoformat(),
                     "delete_at": account.leave_delete_at.isoformat()
                     if account.leave_delete_at else None})
        lifecycle.apply_due_leave(Account.objects.filter(pk=account.pk), now=now, actor=actor)


def do_delete(*, actor: Actor, profile: Profile, account: Account, now: dt.datetime,
              rule: str, reason: str) -> None:
    """Delete at once (KH-4.4 on request, NB-10.1e emergency): data purged, address
    tombstoned and never handed to anyone else."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        require_not_stranding(actor, account)
        lifecycle.ensure_transition(account, S.DELETED)
        lifecycle.apply_transition(Account.objects.filter(pk=account.pk), to=S.DELETED,
                                   rule=rule or profile.lifecycle.leave.rule, reason=reason,
                                   now=now, actor=actor, action="account.delete")


def do_transfer(*, actor: Actor, profile: Profile, account: Account, to_agency_ref: str,
                now: dt.datetime) -> Account:
    """Move a person to another agency in the province. KH-2.4/NT-5.2b keep the address;
    where the address carries the agency (NB-5.3) a new one is given and the old one is
    kept as an alias for the reservation period (Reading)."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        person = account.person
        if person is None:
            raise CongvuError(_("Only a person's account can be transferred."))
        if account.state == S.DELETED:
            raise Forbidden(_("Account %(address)s is deleted.") % {"address": account.address})
        target = agency_by_ref(to_agency_ref)
        require_manage(actor, target)
        agency, department = target, None
        if target.kind == AgencyKind.DEPARTMENT:
            department = target
            agency = next(a for a in target.ancestors() if a.kind != AgencyKind.DEPARTMENT)
        old_address, old_agency = account.address, account.agency
        person.agency, person.department = agency, department
        person.save()
        account.agency = agency
        life = profile.lifecycle
        if not life.transfer_keeps_address:
            abbr = person_agency_abbr(profile, node_of(target))
            given = parse_person_name(person.full_name).given
            taken = taken_local_parts(profile.mail.domain, containing=given)
            taken.discard(account.local_part)
            suggestion = suggest_person(profile, person.full_name, agency=abbr, taken=taken,
                                        leader=person.is_leader)
            if suggestion.local_part != account.local_part:
                _readdress(profile, account, suggestion.local_part, now)
        account.save()
        index_account(account)  # the directory: new agency, maybe a new address
        record(actor=actor, action="account.transfer", at=now, target=account.address,
               rule=life.transfer_rule,
               data={"from_agency": old_agency.account_name if old_agency else None,
                     "to_agency": target.account_name, "old_address": old_address})
    return account


def _readdress(profile: Profile, account: Account, local: str, now: dt.datetime) -> None:
    """Give ``account`` a new address (the caller saves it): the old one becomes an alias
    for the profile's ``old_address_alias_for`` (for ever when unset) and stays reserved,
    so mail sent to it still arrives and it is never handed to anyone else."""
    life = profile.lifecycle
    ReservedName.objects.filter(domain=account.domain, local_part=account.local_part
                                ).update(kind=ReservedName.Kind.ALIAS)
    Alias.objects.create(
        address=account.address, local_part=account.local_part, domain=account.domain,
        account=account, rule=life.transfer_rule, created_at=now,
        expires_at=life.old_address_alias_for.after(now) if life.old_address_alias_for
        else None)
    account.local_part = local
    account.address = f"{local}@{account.domain}"
    reserve_name(profile, local, ReservedName.Kind.ACCOUNT, now, account=account)


def _changeable(account: Account) -> None:
    if account.person is None:
        raise CongvuError(_("%(address)s is not a person's account.") % {
            "address": account.address})
    if account.state in (S.LOCKED, S.DELETED):
        raise Forbidden(_("Account %(address)s is %(state)s; it can no longer be changed.") % {
            "address": account.address, "state": account.state})


def do_change_position(*, actor: Actor, profile: Profile, account: Account, position: str,
                       now: dt.datetime) -> Account:
    """Form 02 code 1 (KH-4.3a): the holder's new position in the directory."""
    value = " ".join(position.split())
    if not value:
        raise CongvuError(_("The new position is empty."))
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        _changeable(account)
        person = account.person
        assert person is not None
        old = person.position
        person.position = value
        person.save(update_fields=["position"])
        record(actor=actor, action="account.change_position", at=now, target=account.address,
               data={"from": old, "to": value})
    return account


def do_change_address(*, actor: Actor, profile: Profile, account: Account, local_part: str,
                      now: dt.datetime) -> Account:
    """Form 02 code 3 (KH-4.3c, e.g. ``nvnguyen_ttr`` → ``nvnguyen``): a new address; the
    old one is kept as for a transfer (``_readdress``)."""
    with transaction.atomic():
        account = _fresh(account)
        require_manage(actor, account.agency)
        _changeable(account)
        local = _validate_local_part(profile, local_part)
        if local == account.local_part:
            raise CongvuError(_("%(address)s already has this address.") % {
                "address": account.address})
        ensure_name_free(profile, local)
        old_address = account.address
        _readdress(profile, account, local, now)
        account.save(update_fields=["local_part", "address"])
        index_account(account)  # the directory finds the new address
        record(actor=actor, action="account.change_address", at=now, target=account.address,
               data={"old_address": old_address})
    return account


def do_record_login(*, account: Account, now: dt.datetime) -> None:
    """A successful sign-in (any path): feeds QN-7.2 and NT-6.2a, resets NB-7.2a."""
    Account.objects.filter(pk=account.pk).update(last_login=now, last_activity_at=now,
                                                 failed_logins=0)
