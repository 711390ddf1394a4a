"""JSON shapes of partners and their members."""

from __future__ import annotations

from datetime import datetime

from ninja import Field

from covey.core.schemas import MAX_POSITIVE_INT, InputSchema, OutSchema, Paging, Ref, ref
from covey.core.vocab import Region, Segment
from covey.partners.models import Lifecycle, Membership, Partner, PartnerRole, PartnerType


class PartnerOut(OutSchema):
    id: str
    name: str
    legal_name: str
    website: str
    domain: str
    region: Region
    country: str
    lifecycle: Lifecycle
    owner: Ref | None = Field(..., description="The partner manager responsible for this partner")
    types: list[PartnerType]
    segments: list[Segment]
    description: str
    employees: int | None
    created_at: datetime
    updated_at: datetime


def partner_out(partner: Partner) -> dict:
    return {
        "id": partner.public_id,
        "name": partner.name,
        "legal_name": partner.legal_name,
        "website": partner.website,
        "domain": partner.domain,
        "region": partner.region,
        "country": partner.country,
        "lifecycle": partner.lifecycle,
        "owner": ref(partner.owner),
        "types": sorted(t.code for t in partner.types.all()),
        "segments": sorted(s.code for s in partner.segments.all()),
        "description": partner.description,
        "employees": partner.employees,
        "created_at": partner.created_at,
        "updated_at": partner.updated_at,
    }


class PartnerPage(OutSchema):
    items: list[PartnerOut]
    count: int


class PartnerFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the name or domain")
    type: PartnerType | None = None
    region: Region | None = None
    lifecycle: Lifecycle | None = None


class MemberFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the person's name or e-mail")


class PartnerCreate(InputSchema):
    name: str
    legal_name: str = ""
    website: str = ""
    domain: str = ""
    region: Region = Region.NORTH_AMERICA
    country: str = Field("", description="ISO 3166 two-letter code")
    lifecycle: Lifecycle = Lifecycle.PROSPECT
    owner: str | None = Field(None, description="User id of the owning partner manager; defaults to you if you are one")
    description: str = ""
    employees: int | None = Field(None, ge=0, le=MAX_POSITIVE_INT)
    types: list[PartnerType] = Field(default_factory=list, max_length=len(PartnerType))
    segments: list[Segment] = Field(default_factory=list, max_length=len(Segment))


class PartnerUpdate(InputSchema):
    """Only the fields sent change. Partner admins may not change lifecycle or owner."""

    name: str | None = None
    legal_name: str | None = None
    website: str | None = None
    domain: str | None = None
    region: Region | None = None
    country: str | None = None
    lifecycle: Lifecycle | None = None
    owner: str | None = None
    description: str | None = None
    employees: int | None = Field(None, ge=0, le=MAX_POSITIVE_INT)
    types: list[PartnerType] | None = Field(None, max_length=len(PartnerType))
    segments: list[Segment] | None = Field(None, max_length=len(Segment))


class MemberOut(OutSchema):
    id: str = Field(..., description="The user's id")
    email: str
    full_name: str
    role: PartnerRole
    since: datetime


def member_out(membership: Membership) -> dict:
    return {
        "id": membership.user.public_id,
        "email": membership.user.email,
        "full_name": membership.user.full_name,
        "role": membership.role,
        "since": membership.created_at,
    }


class MemberIn(InputSchema):
    email: str = Field(..., min_length=3, max_length=254, description="They get an e-mail with a link to choose a password")
    full_name: str = Field("", max_length=200)
    role: PartnerRole = PartnerRole.REP


class MemberRoleIn(InputSchema):
    role: PartnerRole


class MemberPage(OutSchema):
    items: list[MemberOut]
    count: int
