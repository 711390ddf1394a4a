"""The company settings over the API: vendor staff read them, admins change them (partner users:
404). Validated by the settings page's own form, so both refuse the same values the same way."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Router

from covey.core import access
from covey.core.api import refuse_nulls, user_of
from covey.core.forms import VendorSettingsForm
from covey.core.models import VendorSettings
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema, OutSchema
from covey.core.services import update_object

router = Router(tags=["settings"])
NO_SETTINGS = "Only an admin can change the company settings."


class SettingsOut(OutSchema):
    company_name: str
    domain: str = Field(description="The vendor's own web domain (its accounts are never a partner's)")
    base_currency: str = Field(description="ISO 4217 code reports and payouts convert to")
    fiscal_year_start_month: int = Field(description="1 = January; quarters and years follow it")


class SettingsIn(InputSchema):
    company_name: str | None = Field(None, max_length=200)
    domain: str | None = Field(None, max_length=253)
    base_currency: str | None = Field(None, max_length=12)
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)


def settings_out(vendor: VendorSettings) -> dict:
    return {f: getattr(vendor, f) for f in SettingsOut.model_fields}


def _vendor_staff(request: HttpRequest):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    return user


@router.get("/settings", response={200: SettingsOut, **READ_ERRORS}, operation_id="settings_get",
            summary="The company settings", description="Name, domain, base currency and fiscal year (vendor staff).")
def settings_get(request: HttpRequest):
    _vendor_staff(request)
    return settings_out(VendorSettings.current())


@router.patch("/settings", response={200: SettingsOut, **WRITE_ERRORS}, operation_id="settings_update",
              summary="Change the company settings", description="Only the fields sent change; recorded in the audit trail. Admins.")
def settings_update(request: HttpRequest, payload: SettingsIn):
    user = _vendor_staff(request)
    access.require(access.is_admin(user), NO_SETTINGS)
    vendor = VendorSettings.current()
    sent = payload.model_dump(exclude_unset=True)
    refuse_nulls(sent)
    # The form gets its own copy: validating a ModelForm writes the values onto its instance,
    # and update_object needs the unchanged one to record what changed.
    form = VendorSettingsForm({**settings_out(vendor), **sent}, instance=VendorSettings.current())
    if not form.is_valid():
        raise ValidationError({field: " ".join(errors) for field, errors in form.errors.items()})
    update_object(vendor, actor=user, source="api", **{f: form.cleaned_data[f] for f in form.fields})
    return settings_out(vendor)
