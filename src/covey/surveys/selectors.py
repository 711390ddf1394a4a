"""Reading survey results: one campaign's figures, breakdowns and comments, and the trend."""

from __future__ import annotations

from covey.partners.models import Partner, PartnerType
from covey.surveys import nps
from covey.surveys.models import Answer, Campaign


def results(campaign: Campaign) -> dict:
    answers = Answer.objects.filter(campaign=campaign)
    by = nps.breakdowns(answers)
    names = dict(Partner.objects.filter(pk__in=list(by["partner"])).values_list("pk", "name"))
    ids = dict(Partner.objects.filter(pk__in=list(by["partner"])).values_list("pk", "public_id"))
    type_labels = dict(PartnerType.choices)
    return {
        "tally": nps.tally(answers),
        "invited": campaign.invitations.count(),
        "by_partner": sorted(((names.get(pid, "?"), ids.get(pid, ""), t) for pid, t in by["partner"].items()),
                             key=lambda r: r[0]),
        "by_type": sorted((type_labels.get(code, code), t) for code, t in by["type"].items()),
        "by_type_codes": by["type"],
        "by_tier": sorted(by["tier"].items()),
        "comments": list(answers.exclude(comment="").select_related("partner").order_by("-answered_at", "-id")),
    }
