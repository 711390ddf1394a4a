"""What Covey remembers about a deal's life at AWS Partner Central and Microsoft Partner Center.

Kept beside the CRM rather than in it: an opportunity has at most one ACE opportunity and one
Microsoft referral, and everything here comes from (or goes to) those systems.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from covey.core.ids import PublicIdField


class AceLink(models.Model):
    """The ACE opportunity a Covey opportunity is shared as (from an imported GetOpportunity)."""

    opportunity = models.OneToOneField("crm.Opportunity", on_delete=models.CASCADE, related_name="ace_link")
    identifier = models.CharField(max_length=20, unique=True, help_text="ACE opportunity id, e.g. O1234567")
    catalog = models.CharField(max_length=20, default="AWS")
    last_modified = models.CharField(max_length=40, blank=True, help_text="LastModifiedDate of the last import")
    review_status = models.CharField(max_length=40, blank=True)
    review_comments = models.TextField(blank=True)
    aws_stage = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.identifier


class InvitationStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    ACCEPTED = "ACCEPTED", "Accepted"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"


class EngagementInvitation(models.Model):
    """An AWS engagement invitation (an AWS referral) and Covey's accept/reject decision on it."""

    public_id = PublicIdField(prefix="egi")
    identifier = models.CharField(max_length=200, unique=True)
    payload_type = models.CharField(max_length=30, default="OpportunityInvitation",
                                    help_text="OpportunityInvitation (an AWS referral) or LeadInvitation (a lead)")
    catalog = models.CharField(max_length=20, default="AWS")
    title = models.CharField(max_length=255, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    rejection_reason = models.CharField(max_length=200, blank=True)
    expires_at = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict, help_text="The invitation's payload of its type")
    opportunity = models.ForeignKey("crm.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.identifier

    @property
    def is_lead(self) -> bool:
        return self.payload_type == "LeadInvitation"


class ReferralLink(models.Model):
    """The Microsoft Partner Center referral a Covey opportunity is shared as."""

    opportunity = models.OneToOneField("crm.Opportunity", on_delete=models.CASCADE, related_name="referral_link")
    referral_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, default="New")
    substatus = models.CharField(max_length=10, default="Pending")
    consent_to_share = models.BooleanField(default=False)
    consent_to_contact = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.referral_id or f"referral of {self.opportunity_id}"
