"""Partner NPS and recognition demo scenario, made through the same services a person uses: last
quarter's partner pulse survey, sent to every partner user, answered by most of them (scores and
comments invented for the demo) and closed; and last quarter's awards, given by the award rules.

Runs once after ``covey demo`` seeds the small set (``seed_surveys``); it does nothing when the
campaign exists."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from covey.core.models import StaffRole, User

NAME = "Partner pulse, last quarter"
SCORES = (10, 9, 8, 9, 6, 10, 7, 3, 9, 8)
COMMENTS = {10: "Deal registration is quick and the channel team answers the same day.",
            6: "Payout statements arrive late; we would like them in the first week.",
            3: "Two channel conflicts this quarter were slow to resolve."}


def seed_surveys(*, admin_email: str, today=None) -> int:
    """Create the scenario; return how many answers it recorded (0 when it ran before or the admin is missing)."""
    from covey.recognition.services import awards_run, last_complete_quarter
    from covey.surveys import services
    from covey.surveys.models import Campaign, Invitation

    if Campaign.objects.filter(name=NAME).exists():
        return 0
    admin = User.objects.filter(email=admin_email, staff_role=StaffRole.ADMIN).first()
    if admin is None:
        return 0
    today = today or timezone.localdate()
    quarter = last_complete_quarter(today)
    opens, closes = quarter.end - timedelta(days=20), quarter.end - timedelta(days=6)

    def at(day, hour=10):
        return timezone.make_aware(datetime.combine(day, time(hour)))

    campaign = services.campaign_create(actor=admin, name=NAME, opens_on=opens, closes_on=closes, source="seed")
    services.campaign_send(campaign=campaign, actor=admin, source="seed", now=at(opens))
    answered = 0
    for i, inv in enumerate(Invitation.objects.filter(campaign=campaign).order_by("id")):
        if i % 5 == 4:  # every fifth person does not answer
            continue
        score = SCORES[i % len(SCORES)]
        services.answer_submit(invitation=inv, score=score, comment=COMMENTS.get(score, ""), via="link",
                               now=at(opens + timedelta(days=1 + i % 10)))
        answered += 1
    services.campaign_close(campaign=campaign, actor=None, source="seed", now=at(closes + timedelta(days=1), 0))
    awards_run(quarter=quarter, source="seed")
    return answered
