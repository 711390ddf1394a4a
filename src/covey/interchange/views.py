"""Interchange pages: download an opportunity as an ACE request or a Microsoft referral, upload
ACE responses or referrals and see the import report, decide on AWS engagement invitations.

Vendor CRM editors only: other vendor staff get 403, partner users 404 (they are not told the pages
exist), like the other vendor-only pages.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.core.access import can_edit_crm, get_for_user, require, require_vendor
from covey.crm.models import Opportunity
from covey.interchange import ace, referrals, services
from covey.interchange.models import EngagementInvitation, InvitationStatus

EDITORS_ONLY = "Only admins, partner managers and sales reps exchange opportunities with AWS and Microsoft."
KINDS = (("ace", "AWS Partner Central (GetOpportunity / GetEngagementInvitation JSON)"),
         ("referrals", "Microsoft Partner Center referrals (JSON)"))


def _editor(request: HttpRequest) -> None:
    require_vendor(request.user)
    require(can_edit_crm(request.user), EDITORS_ONLY)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="ace")
    file = forms.FileField(help_text=f"JSON, at most {services.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > services.MAX_DOCUMENT_BYTES:
            raise forms.ValidationError("The file is too large; import it on the server with “covey ace import”.")
        return upload


def _download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _opportunity(request: HttpRequest, public_id: str) -> Opportunity:
    _editor(request)
    return get_for_user(Opportunity, request.user, public_id, select=("account",))


@login_required
def ace_export(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = _opportunity(request, public_id)
    try:
        exported = services.ace_export(opportunity=opportunity)
    except ace.AceError as exc:
        messages.error(request, f"Not exported: {exc}")
        return redirect("opportunity_detail", public_id=opportunity.public_id)
    return _download(json.dumps(exported, indent=2, ensure_ascii=False), f"{opportunity.public_id}-ace.json")


@login_required
def referral_export(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = _opportunity(request, public_id)
    try:
        body = services.referral_export(opportunity=opportunity)
    except referrals.ReferralError as exc:
        messages.error(request, f"Not exported: {exc}")
        return redirect("opportunity_detail", public_id=opportunity.public_id)
    return _download(referrals.dumps(body), f"{opportunity.public_id}-referral.json")


@login_required
def interchange_home(request: HttpRequest) -> HttpResponse:
    _editor(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = refused = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            run = services.ace_import if form.cleaned_data["kind"] == "ace" else services.referrals_import
            try:
                report = run(raw=form.cleaned_data["file"].read(), actor=request.user).as_dict()
            except services.ImportRefused as exc:
                refused, status = str(exc), 422
        else:
            status = 422
    invitations = EngagementInvitation.objects.select_related("opportunity")[:50]
    return render(request, "interchange/home.html",
                  {"form": form, "report": report, "refused": refused, "invitations": invitations}, status=status)


@login_required
@require_POST
def invitation_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    _editor(request)
    invitation = EngagementInvitation.objects.filter(public_id=public_id).first()
    if invitation is None:
        raise Http404("No such invitation")
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject") or invitation.status != InvitationStatus.PENDING:
        messages.error(request, "Choose accept or reject on a pending invitation.")
        return redirect("interchange_home")
    try:
        answer = services.invitation_decide(invitation=invitation, accept=decision == "accept", actor=request.user,
                                            reason=request.POST.get("reason", "").strip()[:200])
    except (services.ImportRefused, ace.AceError) as exc:
        messages.error(request, str(exc))
        return redirect("interchange_home")
    return _download(json.dumps(answer, indent=2), f"{invitation.identifier}-{decision}.json")
