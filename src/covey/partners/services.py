"""Partner workflows: create and update partners (with types and segments), manage memberships."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from covey.core import audit
from covey.core.models import User
from covey.core.services import create_object, delete_object, update_object
from covey.partners.models import Lifecycle, Membership, Partner, PartnerSegmentTag, PartnerTypeTag

USER_IS_VENDOR_STAFF = "That e-mail belongs to a member of the vendor's staff."
USER_IN_OTHER_PARTNER = "That person already belongs to another partner."
LAST_ADMIN = "A partner needs at least one partner admin."


def _set_tags(partner: Partner, model, codes: Iterable[str]) -> tuple[list[str], list[str]] | None:
    related = partner.types if model is PartnerTypeTag else partner.segments
    old = sorted(related.values_list("code", flat=True))
    new = sorted(set(codes))
    if old == new:
        return None
    related.exclude(code__in=new).delete()
    model.objects.bulk_create([model(partner=partner, code=c) for c in new if c not in old])
    return old, new


def _validate_codes(model, codes: Iterable[str], field: str) -> list[str]:
    valid = {c for c, _ in model._meta.get_field("code").choices}
    codes = list(codes)
    unknown = [c for c in codes if c not in valid]
    if unknown:
        raise ValidationError({field: f"Unknown value(s): {', '.join(unknown)}"})
    return codes


@transaction.atomic
def partner_create(*, actor, types: Iterable[str] = (), segments: Iterable[str] = (), source: str = "web", **values) -> Partner:
    """A new partner starts as a prospect; any other lifecycle asked for is reached through
    ``covey.lifecycle.services.partner_change_lifecycle`` (so "active" still needs a countersigned
    agreement and "onboarding" gets its plan)."""
    from covey.lifecycle.services import partner_change_lifecycle

    types = _validate_codes(PartnerTypeTag, types, "types")
    segments = _validate_codes(PartnerSegmentTag, segments, "segments")
    lifecycle = values.pop("lifecycle", None) or Lifecycle.PROSPECT
    partner = create_object(Partner, actor=actor, source=source, lifecycle=Lifecycle.PROSPECT, **values)
    _set_tags(partner, PartnerTypeTag, types)
    _set_tags(partner, PartnerSegmentTag, segments)
    if lifecycle != Lifecycle.PROSPECT:
        partner_change_lifecycle(partner=partner, to=lifecycle, actor=actor, source=source)
        partner.refresh_from_db()
    return partner


@transaction.atomic
def partner_update(
    *, partner: Partner, actor, types: Iterable[str] | None = None, segments: Iterable[str] | None = None,
    source: str = "web", **values,
) -> dict:
    """Change a partner's profile. A lifecycle change goes through the lifecycle service (its rules
    and its audit record); the other fields are saved as given."""
    from covey.lifecycle.services import partner_change_lifecycle

    lifecycle = values.pop("lifecycle", None)
    changes = update_object(partner, actor=actor, source=source, **values) if values else {}
    if lifecycle is not None and lifecycle != partner.lifecycle:
        before = partner.lifecycle
        partner_change_lifecycle(partner=partner, to=lifecycle, actor=actor, source=source)
        partner.lifecycle = lifecycle
        changes["lifecycle"] = [before, lifecycle]
    extra = {}
    if types is not None:
        if changed := _set_tags(partner, PartnerTypeTag, _validate_codes(PartnerTypeTag, types, "types")):
            extra["types"] = list(changed)
    if segments is not None:
        if changed := _set_tags(partner, PartnerSegmentTag, _validate_codes(PartnerSegmentTag, segments, "segments")):
            extra["segments"] = list(changed)
    if extra:
        audit.record(actor=actor, action="update", obj=partner, changes=extra, source=source)
    return {**changes, **extra}


@transaction.atomic
def membership_of(partner: Partner, user_id: str) -> Membership:
    """The person with this user id at ``partner``; 404 when there is none, so someone at another
    partner reads exactly like nobody."""
    membership = partner.memberships.select_related("user", "partner").filter(user__public_id=user_id[:40]).first()
    if membership is None:
        raise Http404("No such member")
    return membership


def membership_add(*, partner: Partner, email: str, full_name: str, role: str, actor, request=None) -> Membership:
    """Add a person to a partner; a new user gets an e-mail with a link to choose a password."""
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    if user is not None and user.is_vendor:
        raise ValidationError({"email": USER_IS_VENDOR_STAFF})
    if user is not None and Membership.objects.filter(user=user).exists():
        raise ValidationError({"email": USER_IN_OTHER_PARTNER})
    invited = user is None
    if invited:
        user = User.objects.create_user(email, full_name=full_name)
    membership = Membership(user=user, partner=partner, role=role)
    membership.full_clean()
    membership.save()
    audit.record(actor=actor, action="update", obj=partner, changes={"members": [None, f"{email} ({membership.get_role_display()})"]})
    if invited:
        _send_invitation(user=user, partner=partner, request=request)
    return membership


def _send_invitation(*, user: User, partner: Partner, request=None) -> None:
    from django.conf import settings

    from covey.core.models import VendorSettings

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    link = request.build_absolute_uri(path) if request is not None else f"{settings.SITE_URL}{path}"
    vendor = VendorSettings.current().company_name
    send_mail(
        subject=f"You're invited to the {vendor} partner portal",
        message=(
            f"Hello {user.full_name or user.email},\n\n"
            f"You now have access to the {vendor} partner portal for {partner.name}.\n"
            f"Choose your password here (the link works once):\n\n{link}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor) -> None:
    if membership.role == "admin" and role != "admin":
        _ensure_another_admin(membership)
    old = membership.get_role_display()
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit.record(actor=actor, action="update", obj=membership.partner,
                 changes={"members": [f"{membership.user.email} ({old})", f"{membership.user.email} ({membership.get_role_display()})"]})


def _ensure_another_admin(membership: Membership) -> None:
    if not membership.partner.memberships.filter(role="admin").exclude(pk=membership.pk).exists():
        raise ValidationError(LAST_ADMIN)


@transaction.atomic
def membership_remove(*, membership: Membership, actor) -> None:
    if membership.role == "admin":
        _ensure_another_admin(membership)
    audit.record(actor=actor, action="update", obj=membership.partner,
                 changes={"members": [f"{membership.user.email} ({membership.get_role_display()})", None]})
    user = membership.user
    membership.delete()
    user.is_active = False  # a partner user without a partner has nothing to see; keep the record for audit
    user.save(update_fields=["is_active"])


def partner_delete(*, partner: Partner, actor) -> None:
    delete_object(partner, actor=actor)
