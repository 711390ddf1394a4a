"""E-mails to applicants. Applicants are not users yet, so they have no notification inbox: these go
out with ``send_mail`` from a task queued when the application commits (the worker sends it; tests
run it inline)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

SUBJECTS = {
    "received": "We received your partner application",
    "declined": "About your partner application",
}


@task()
def email_applicant(application_id: int, kind: str, note: str = "") -> bool:
    from covey.core.models import VendorSettings
    from covey.lifecycle.models import Application

    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        return False
    vendor = VendorSettings.current().company_name
    hello = f"Hello {application.contact_name},\n\n"
    if kind == "received":
        text = (
            f"{hello}thank you for applying to become a {vendor} partner on behalf of {application.company_name}. "
            "Our partner team reviews every application and will get back to you, usually within two weeks.\n\n"
            f"Reference: {application.public_id}\n"
        )
    else:
        text = (
            f"{hello}thank you for your interest in partnering with {vendor}. After reviewing the application "
            f"of {application.company_name} we will not go ahead at this time.\n\n{note}\n"
        )
    send_mail(f"{SUBJECTS[kind]} · {vendor}", text, settings.DEFAULT_FROM_EMAIL, [application.contact_email])
    return True
