"""The audit trail in words: one sentence per entry, and only the changes a person reads.

auditlog records what a save changed as ``{field: [before, after]}`` (a create lists every field)
and our services add explicit entries with their own keys (``lockout``, ``mfa``, ``offboarding``,
``password_reset``…). Read raw, that is "Superuser status: — → False", "Tenant: — → 1" and
microseconds of UTC. ``entries_describe`` turns a page of entries into what the page, the
dashboard and the CSV export show:

- a **sentence** naming who did what to whom ("Adam Admin changed Bob Builder's role from Member
  to Helpdesk"), chosen from the entry's object and its most telling change;
- the **changes** that are news: internal fields hidden (ids, the tenant, hashes, bookkeeping
  times), a create showing only the values it set, choice codes as their labels, related objects
  by name instead of id (one query per related model for the whole page, scoped to the tenant),
  yes/no for booleans and times to the minute in the reader's time zone.

Everything a person reads is translated; the stored entry is not changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from activity.models import AuditLogEntry
from activity.services import GREY_ZONE_CHANGE
from tenants.models import Invitation, Tenant

CREATE, UPDATE, DELETE, ACCESS = (AuditLogEntry.Action.CREATE, AuditLogEntry.Action.UPDATE,
                                  AuditLogEntry.Action.DELETE, AuditLogEntry.Action.ACCESS)
# The pages whose records pending deletion an explicit "grey_zone" entry says were opened.
GREY_ZONE_VIEWS: Mapping[str, Promise] = {
    "signin_log": gettext_lazy("Sign-in log"),
    "person_signins": gettext_lazy("Sign-ins of a person"),
    "signin_detail": gettext_lazy("Sign-in event"),
    "export_log": gettext_lazy("Export log"),
    "audit_trail": gettext_lazy("Audit trail"),
}

# Never shown: identifiers, the tenant every entry belongs to, secrets' hashes, bookkeeping.
HIDDEN_FIELDS = frozenset({
    "id", "tenant", "password", "last_login", "is_superuser", "is_staff", "policy_version",
    "updated_at", "updated_by", "created_at", "status_changed_at", "date_joined", "token_hash",
    "groups", "user_permissions", "key", "secret", "secret_encrypted", "code_hash",
})


# The explicit entries' keys (written by services, not by a model save): their labels.
EXPLICIT_LABELS: Mapping[str, Promise] = {
    "lockout": gettext_lazy("Lockout"),
    "mfa": gettext_lazy("Two-step sign-in"),
    "password": gettext_lazy("Password"),
    "password_reset": gettext_lazy("Password reset"),
    "session": gettext_lazy("Session"),
    "sessions": gettext_lazy("Sessions"),
    "sessions_ended": gettext_lazy("Sessions ended"),
    "device_cookies_revoked": gettext_lazy("Recognised browsers forgotten"),
    "mail_client_passwords_revoked": gettext_lazy("Client-specific passwords revoked"),
    "mfa_devices_removed": gettext_lazy("Two-step sign-in devices removed"),
    "password_reset_links_revoked": gettext_lazy("Password reset links revoked"),
    "invitations_revoked": gettext_lazy("Invitations revoked"),
    "people_import": gettext_lazy("People import"),
    "person": gettext_lazy("Person"),
    "hold": gettext_lazy("Legal hold"),
    "invitation": gettext_lazy("Invitation"),
    "offboarding": gettext_lazy("Offboarding"),
    "offboard_at": gettext_lazy("Offboarding date"),
    "offboard_reason": gettext_lazy("Reason for offboarding"),
    "reactivation": gettext_lazy("Reactivation"),
    "account": gettext_lazy("Account"),
    "reason": gettext_lazy("Reason"),
    "trust": gettext_lazy("Trusted"),
    "note": gettext_lazy("Note"),
    "assignee": gettext_lazy("Assignee"),
    "alerts_digest": gettext_lazy("Alert digest e-mails"),
    "ends_on": gettext_lazy("Ends on"),
    "lifted_at": gettext_lazy("Lifted at"),
    "revoked": gettext_lazy("Revoked at"),
    "must_change_password": gettext_lazy("Must change password at next sign-in"),
}
# Values the services write as codes or fixed English phrases: what they read as.
VALUE_LABELS: Mapping[str, Promise] = {
    "True": gettext_lazy("yes"), "False": gettext_lazy("no"),
    "locked": gettext_lazy("locked"), "unlocked": gettext_lazy("unlocked"),
    "reset": gettext_lazy("reset"), "none": gettext_lazy("none"), "enrolled": gettext_lazy("enrolled"),
    "changed": gettext_lazy("changed"), "ended": gettext_lazy("ended"),
    "pending": gettext_lazy("pending"), "revoked": gettext_lazy("revoked"),
    "scheduled": gettext_lazy("scheduled"), "cancelled": gettext_lazy("cancelled"),
    "on": gettext_lazy("on"), "off": gettext_lazy("off"),
    "requested": gettext_lazy("requested"), "used": gettext_lazy("used"),
    "expired": gettext_lazy("expired"), "refused": gettext_lazy("refused"),
    "sent": gettext_lazy("sent"),
    "secured after a compromise": gettext_lazy("secured after a compromise"),
    "invited again": gettext_lazy("invited again"),
    "new password and new two-step sign-in required":
        gettext_lazy("new password and new two-step sign-in required"),
    "not carried out: last active owner": gettext_lazy("not carried out: last active owner"),
    "backup codes regenerated": gettext_lazy("backup codes regenerated"),
    "previewed": gettext_lazy("previewed"), "applied": gettext_lazy("applied"),
}
_DASH = "—"


@dataclass(frozen=True, slots=True)
class EntrySource:
    """What describing an entry reads (an AuditLogEntry, or an export row's values)."""

    action: int
    content_type_id: int | None
    object_pk: str
    object_repr: str
    changes: Mapping[str, Any]
    actor_id: int | None
    actor_label: str
    additional_data: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, entry: Any) -> EntrySource:
        actor = entry.actor if entry.actor_id else None
        return cls(action=entry.action, content_type_id=entry.content_type_id,
                   object_pk=str(entry.object_pk or ""), object_repr=entry.object_repr or "",
                   changes=entry.changes if isinstance(entry.changes, dict) else {},
                   actor_id=entry.actor_id,
                   actor_label=str(actor) if actor is not None else (entry.actor_email or ""),
                   additional_data=entry.additional_data if isinstance(entry.additional_data, dict)
                   else None)


@dataclass(frozen=True, slots=True)
class EntryText:
    sentence: str
    object_type: str
    changes: list[tuple[str, str, str]]  # (label, before, after)

    @property
    def changes_text(self) -> str:
        """The changes on one line (the CSV's column)."""
        return "; ".join(f"{label}: {old} → {new}" for label, old, new in self.changes)


def _is_reverse(model: type[Model] | None, name: str) -> bool:
    """A reverse relation auditlog lists on create ("x.None"): never a change."""
    if model is None:
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.auto_created and not field.concrete)


def _field(model: type[Model] | None, name: str) -> Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, Field) else None


def _raw(value: Any) -> tuple[str, str]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple("" if v in (None, "None") else str(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, dict):  # many-to-many
        return str(value.get("operation", "")), ", ".join(str(o) for o in value.get("objects", []))
    return "", str(value)


class _Names:
    """Related objects by name: the page's ids of each related model, fetched in one query each."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.wanted: dict[type[Model], set[str]] = {}
        self.names: dict[tuple[type[Model], str], str] = {}

    def want(self, model: type[Model], pk: str) -> None:
        if pk and pk.isdigit():
            self.wanted.setdefault(model, set()).add(pk)

    def fetch(self) -> None:
        for model, pks in self.wanted.items():
            if model is Tenant:
                if str(self.tenant.pk) in pks:
                    self.names[(model, str(self.tenant.pk))] = str(self.tenant)
                continue
            if not any(f.name == "tenant" for f in model._meta.get_fields()):
                continue  # not tenant data: left as its id
            manager: Any = model._default_manager
            for obj in manager.filter(tenant=self.tenant, pk__in=[int(pk) for pk in pks]):
                self.names[(model, str(obj.pk))] = str(obj)

    def name(self, model: type[Model], pk: str) -> str:
        return self.names.get((model, pk), pk)


def _when(text: str, zone: ZoneInfo) -> str | None:
    """A stored time as the reader's minute, or None when ``text`` is not a time."""
    if len(text) < 16 or text[4:5] != "-" or text[10:11] not in (" ", "T"):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _shown(value: str, field: Field[Any, Any] | None, names: _Names, zone: ZoneInfo) -> str:
    if value == "":
        return _DASH
    if field is not None:
        choices = dict(field.flatchoices or [])
        if choices and value in {str(k) for k in choices}:
            return str({str(k): v for k, v in choices.items()}[value])
        if field.many_to_one and field.related_model is not None:
            return names.name(field.related_model, value)
    if value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    when = _when(value, zone)
    return when if when is not None else value


def _label(name: str, field: Field[Any, Any] | None) -> str:
    if name in EXPLICIT_LABELS:
        return str(EXPLICIT_LABELS[name])
    if field is not None:
        return str(field.verbose_name).capitalize()
    return name.replace("_", " ").capitalize()


def _person_sentence(actor: str, who: str, key: str, old: str, new: str, shown: Callable[[str], str],
                     *, own: bool) -> str | None:
    """The sentence for a change of a person (accounts.User), or None for the generic one."""
    if key == "role":
        if own:
            return None
        return _("%(actor)s changed %(person)s's role from %(old)s to %(new)s") % {
            "actor": actor, "person": who, "old": shown(old), "new": shown(new)}
    if key == "status":
        sentences = {
            "suspended": _("%(actor)s suspended %(person)s"),
            "offboarded": _("%(actor)s offboarded %(person)s"),
            "invited": _("%(actor)s invited %(person)s again"),
        }
        if new == "active":
            if old == "invited":
                return _("%(person)s accepted the invitation") % {"person": who}
            return _("%(actor)s reactivated %(person)s") % {"actor": actor, "person": who}
        if new in sentences:
            return sentences[new] % {"actor": actor, "person": who}
        return None
    if key == "mfa":
        if new == "reset":
            return _("%(actor)s reset %(person)s's two-step sign-in") % {"actor": actor, "person": who}
        return _("%(actor)s changed their two-step sign-in: %(change)s") % {
            "actor": actor, "change": shown(new)}
    if key == "lockout" and new == "unlocked":
        return _("%(actor)s unlocked %(person)s") % {"actor": actor, "person": who}
    if key == "password" and own:
        return _("%(actor)s changed their password") % {"actor": actor}
    if key == "password_reset":
        return _("Password reset for %(person)s: %(step)s") % {"person": who, "step": shown(new)}
    if key in ("session", "sessions", "sessions_ended"):
        if own:
            return _("%(actor)s signed out a session") % {"actor": actor}
        return _("%(actor)s ended %(person)s's sessions") % {"actor": actor, "person": who}
    if key == "must_change_password" and new == "True":
        return _("%(actor)s required %(person)s to change their password at next sign-in") % {
            "actor": actor, "person": who}
    if key == "mail_protocols_off":  # the person page's switch (security.policies.mail)
        if new == "True":
            return _("%(actor)s turned mail protocols off for %(person)s") % {"actor": actor, "person": who}
        return _("%(actor)s turned mail protocols on again for %(person)s") % {"actor": actor, "person": who}
    if key == "invitation" and new == "revoked":
        return _("%(actor)s revoked %(person)s's invitation") % {"actor": actor, "person": who}
    if key == "offboarding":
        if new == "scheduled":
            return _("%(actor)s scheduled %(person)s's offboarding") % {"actor": actor, "person": who}
        if new == "cancelled":
            return _("%(actor)s cancelled %(person)s's offboarding") % {"actor": actor, "person": who}
    if key == "account":
        return _("%(actor)s secured %(person)s's account after a compromise") % {
            "actor": actor, "person": who}
    return None


# Which change of a person's entry speaks for it, most telling first.
_PERSON_KEYS = ("account", "status", "offboarding", "role", "mfa", "lockout", "password_reset",
                "must_change_password", "mail_protocols_off", "invitation", "sessions_ended", "sessions", "session",
                "password")


def _generic(action: int, actor: str, kind: str, obj: str, fields: str) -> str:
    values = {"actor": actor, "type": kind, "object": obj, "fields": fields}
    if action == CREATE:
        return _("%(actor)s created %(type)s “%(object)s”") % values
    if action == DELETE:
        return _("%(actor)s deleted %(type)s “%(object)s”") % values
    if action == ACCESS:
        return _("%(actor)s opened %(type)s “%(object)s”") % values
    if fields:
        return _("%(actor)s changed %(type)s “%(object)s”: %(fields)s") % values
    return _("%(actor)s changed %(type)s “%(object)s”") % values


def entries_describe(sources: Sequence[EntrySource], *, tenant: Tenant,
                     tz: str = "UTC") -> list[EntryText]:
    """A sentence and the readable changes of each entry, in order."""
    zone = ZoneInfo(tz)
    names = _Names(tenant)
    models: list[type[Model] | None] = []
    for source in sources:
        model = None
        if source.content_type_id:
            try:
                model = ContentType.objects.get_for_id(source.content_type_id).model_class()
            except ContentType.DoesNotExist:
                model = None
        models.append(model)
        for name, value in source.changes.items():
            if str(name) in HIDDEN_FIELDS:
                continue
            field = _field(model, str(name))
            if field is not None and field.many_to_one and field.related_model is not None:
                for raw in _raw(value):
                    names.want(field.related_model, raw)
        if model is Invitation:
            user_pk = _raw(source.changes.get("user", ["", ""]))[1]
            names.want(User, user_pk)
    names.fetch()

    texts = []
    for source, model in zip(sources, models, strict=True):
        kind = str(model._meta.verbose_name) if model is not None else _("object")
        actor = source.actor_label or _("The system")
        changes: list[tuple[str, str, str]] = []
        for name, value in source.changes.items():
            name = str(name)
            if name in HIDDEN_FIELDS or name == GREY_ZONE_CHANGE or _is_reverse(model, name):
                continue
            field = _field(model, name)
            old, new = _raw(value)
            if source.action == CREATE and new in ("", "False", "0", "[]", "{}"):
                continue  # a create: only the values it set
            changes.append((_label(name, field), _shown(old, field, names, zone),
                            _shown(new, field, names, zone)))
        sentence = _sentence(source, model, actor, kind, changes, names, zone)
        texts.append(EntryText(sentence=sentence, object_type=kind.capitalize(), changes=changes))
    return texts


def _sentence(source: EntrySource, model: type[Model] | None, actor: str, kind: str,
              changes: list[tuple[str, str, str]], names: _Names, zone: ZoneInfo) -> str:
    keys = {str(k): _raw(v) for k, v in source.changes.items()}
    if GREY_ZONE_CHANGE in keys:
        view = keys[GREY_ZONE_CHANGE][1]
        return _("%(actor)s opened records pending deletion (%(view)s)") % {
            "actor": actor, "view": GREY_ZONE_VIEWS.get(view, view)}
    who = source.object_repr or source.object_pk
    if model is User:
        if source.action == CREATE:
            role_field = _field(model, "role")
            role = _shown(keys.get("role", ("", ""))[1], role_field, names, zone)
            return _("%(actor)s added %(person)s as %(role)s") % {
                "actor": actor, "person": who, "role": role}
        if source.action == DELETE:
            return _("%(actor)s deleted %(person)s") % {"actor": actor, "person": who}
        own = source.actor_id is not None and str(source.actor_id) == source.object_pk
        for key in _PERSON_KEYS:
            if key in keys:
                old, new = keys[key]
                field = _field(model, key)

                def shown(value: str, field: Field[Any, Any] | None = field) -> str:
                    return _shown(value, field, names, zone)

                sentence = _person_sentence(actor, who, key, old, new, shown, own=own)
                if sentence is not None:
                    return sentence
        fields = ", ".join(label for label, _old, _new in changes)
        if own:
            return _("%(actor)s changed their own account: %(fields)s") % {
                "actor": actor, "fields": fields}
        return _("%(actor)s changed %(person)s: %(fields)s") % {
            "actor": actor, "person": who, "fields": fields}
    if model is Invitation:
        invited = names.name(User, keys.get("user", ("", ""))[1]) if "user" in keys else ""
        if source.action == CREATE:
            return _("%(actor)s sent an invitation to %(person)s") % {
                "actor": actor, "person": invited or who}
        if keys.get("revoked_at", ("", ""))[1]:
            return _("%(actor)s revoked an invitation") % {"actor": actor}
        if keys.get("accepted_at", ("", ""))[1]:
            return _("An invitation was accepted")
    if model is Tenant and source.action == UPDATE:
        fields = ", ".join(label for label, _old, _new in changes)
        return _("%(actor)s changed the company's settings: %(fields)s") % {
            "actor": actor, "fields": fields}
    if model is not None and model._meta.app_label == "security" and model.__name__.endswith("Policy"):
        fields = ", ".join(label for label, _old, _new in changes)
        return _("%(actor)s changed the %(policy)s: %(fields)s") % {
            "actor": actor, "policy": kind, "fields": fields}
    fields = ", ".join(label for label, _old, _new in changes)
    return _generic(source.action, actor, kind, source.object_repr or source.object_pk, fields)


# --- One action, one entry ----------------------------------------------------------------------
# auditlog writes one entry per model save, so one admin action is often several: inviting a
# person creates the User and its Invitation, offboarding saves the person and adds the
# services' explicit entry, a policy page saves the policy and records its allowlist. Every entry
# a request writes carries that request's id as ``cid`` (activity.middleware), and one action's
# entries are written in one transaction, so in the trail's order (newest first) they are
# adjacent. Entries without a cid (a task, a command, a shell) are never grouped.


def entry_group_key(entry: Any) -> tuple[Any, ...] | None:
    """What the entries of one action share (request id, tenant, actor), or None."""
    cid = getattr(entry, "cid", None)
    if not cid:
        return None
    return (cid, getattr(entry, "tenant_id", None), getattr(entry, "actor_id", None))


def entries_group[T](entries: Sequence[T]) -> list[list[T]]:
    """Adjacent entries of one action (one request id, tenant and actor), in the given order.

    Grouping is within ``entries`` (one page); the audit trail's pages end between actions
    (activity.logs.audit_pages).
    """
    groups: list[list[T]] = []
    previous: tuple[Any, ...] | None = None
    for entry in entries:
        key = entry_group_key(entry)
        if groups and key is not None and key == previous:
            groups[-1].append(entry)
        else:
            groups.append([entry])
        previous = key
    return groups


def _model_of(source: EntrySource) -> type[Model] | None:
    if not source.content_type_id:
        return None
    try:
        return ContentType.objects.get_for_id(source.content_type_id).model_class()
    except ContentType.DoesNotExist:
        return None


def _invited_as(sources: Sequence[EntrySource], models: Sequence[type[Model] | None],
                ) -> str | None:
    """"X invited Y as Role" when the action created a person and their invitation."""
    person = next((s for s, m in zip(sources, models, strict=True)
                   if m is User and s.action == CREATE), None)
    if person is None or not any(m is Invitation and s.action == CREATE
                                 for s, m in zip(sources, models, strict=True)):
        return None
    role_field = _field(User, "role")
    role_code = _raw(person.changes.get("role", ["", ""]))[1]
    role = dict((str(k), v) for k, v in (role_field.flatchoices if role_field else [])).get(
        role_code, role_code)
    return _("%(actor)s invited %(person)s as %(role)s") % {
        "actor": person.actor_label or _("The system"),
        "person": person.object_repr or person.object_pk, "role": role}


def _without_actor(sentence: str, actor: str) -> str:
    if actor and sentence.startswith(actor):
        return sentence[len(actor):].lstrip()
    return sentence


def groups_describe(groups: Sequence[Sequence[EntrySource]], *, tenant: Tenant,
                    tz: str = "UTC") -> list[EntryText]:
    """One sentence and the combined changes of each action (a group of entries, newest first).

    Related objects are named in one query per model for all the groups together. The sentence
    is the first-written entry's, followed by what the others add (without repeating the actor);
    a change of another object than the first entry's is labelled with that object's type.
    """
    flat = [source for group in groups for source in group]
    texts = iter(entries_describe(flat, tenant=tenant, tz=tz))
    described = []
    for group in groups:
        pairs = [(source, next(texts)) for source in group]
        if len(pairs) == 1:
            described.append(pairs[0][1])
            continue
        pairs.reverse()  # as written: the first entry speaks for the action
        sources = [source for source, _text in pairs]
        models = [_model_of(source) for source in sources]
        first_source, first = pairs[0]
        actor = first_source.actor_label or _("The system")
        sentences: list[str] = []
        invited = _invited_as(sources, models)
        if invited is not None:
            sentences.append(invited)
        changes: list[tuple[str, str, str]] = []
        for (source, text), model in zip(pairs, models, strict=True):
            told = invited is not None and source.action == CREATE and model in (User, Invitation)
            if not told and text.sentence not in sentences:
                sentences.append(text.sentence)
            same_object = (source.content_type_id, source.object_pk) == (
                first_source.content_type_id, first_source.object_pk)
            for label, old, new in text.changes:
                if not same_object:
                    label = _("%(type)s · %(field)s") % {"type": text.object_type, "field": label}
                changes.append((label, old, new))
        sentence = sentences[0]
        for more in sentences[1:]:
            sentence = _("%(sentence)s; %(more)s") % {
                "sentence": sentence, "more": _without_actor(more, actor)}
        described.append(EntryText(sentence=sentence, object_type=first.object_type,
                                   changes=changes))
    return described
