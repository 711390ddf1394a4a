"""Agreement pages: the list, one agreement (read, sign, countersign, PDF), issuing, templates and versions.

Partner users reach only their own partner's agreements (``get_for_user``: another partner's answer
404); templates are the vendor's.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.agreements import access, services
from covey.agreements.forms import IssueForm, SignForm, TemplateForm, VersionForm
from covey.agreements.models import Agreement, AgreementStatus, AgreementTemplate
from covey.agreements.render import body_html
from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.clients import client_ip, user_agent
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.partners.models import Lifecycle, Partner

NO_TEMPLATES = "Only admins edit agreement templates."
NO_ISSUE = "Only an admin or the partner's own manager issues agreements."
NO_SIGN = "Only the partner's admins sign its agreements."
NO_COUNTERSIGN = "Only a vendor admin countersigns agreements."


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    qs = Agreement.objects.visible_to(request.user).select_related("partner", "version__template")
    filters = [Filter("status", "Status", lookup="status", choices=AgreementStatus.choices)]
    listing = build_listing(request, qs, search=("title", "partner__name"), filters=filters,
                            sorts={"issued": ["issued_at"], "partner": ["partner__name"]}, default_sort="-issued")
    return render_list(request, "agreements/agreement_list.html", "agreements/_agreement_results.html", {
        "listing": listing, "can_templates": access.can_manage_templates(request.user),
        "can_issue": request.user.staff_role in ("admin", "partner_manager"),
    })


def _agreement(request: HttpRequest, public_id: str, check=None) -> Agreement:
    return get_for_user(Agreement, request.user, public_id, write_check=check,
                        select=("partner", "partner__owner", "version__template", "signed_by", "countersigned_by"))


def _detail(request: HttpRequest, agreement: Agreement, form: SignForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    return render(request, "agreements/agreement_detail.html", {
        "agreement": agreement, "body": body_html(agreement.body), "form": form or SignForm(initial={"name": user.full_name}),
        "can_sign": access.can_sign(user, agreement) and agreement.status == AgreementStatus.ISSUED,
        "can_countersign": access.can_countersign(user) and agreement.status == AgreementStatus.SIGNED,
        "can_withdraw": access.can_withdraw(user, agreement) and agreement.status in (AgreementStatus.ISSUED, AgreementStatus.SIGNED),
        "history": audit.history(agreement)[:20] if user.is_vendor else [],
    }, status=status)


@login_required
def agreement_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _detail(request, _agreement(request, public_id))


def _signing(request: HttpRequest, public_id: str, *, check, act, done: str) -> HttpResponse:
    agreement = _agreement(request, public_id, check=check)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            act(agreement, form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("agreement_detail", public_id=agreement.public_id)
    return _detail(request, agreement, form)


@login_required
@require_POST
def agreement_sign(request: HttpRequest, public_id: str) -> HttpResponse:
    return _signing(
        request, public_id, check=access.can_sign, done="Signed. A vendor admin countersigns next.",
        act=lambda a, d: services.agreement_sign(agreement=a, actor=request.user, name=d["name"], consent=d["consent"],
                                                 ip=client_ip(request), user_agent=user_agent(request)),
    )


@login_required
@require_POST
def agreement_countersign(request: HttpRequest, public_id: str) -> HttpResponse:
    return _signing(
        request, public_id, check=access.can_countersign, done="Countersigned. The signed PDF is stored with the agreement.",
        act=lambda a, d: services.agreement_countersign(agreement=a, actor=request.user, name=d["name"], consent=d["consent"],
                                                        ip=client_ip(request), user_agent=user_agent(request)),
    )


@login_required
@require_POST
def agreement_withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    agreement = _agreement(request, public_id, check=access.can_withdraw)
    try:
        services.agreement_void(agreement=agreement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Agreement withdrawn.")
    return redirect("agreement_detail", public_id=agreement.public_id)


@login_required
def agreement_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    agreement = _agreement(request, public_id)
    if not agreement.pdf:
        raise Http404("This agreement has no signed PDF yet")
    response = FileResponse(agreement.pdf.open("rb"), content_type="application/pdf", as_attachment=True,
                            filename=f"agreement-{agreement.public_id}.pdf")
    response["X-Content-SHA256"] = agreement.pdf_sha256
    return response


@login_required
def agreement_issue(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user.staff_role in ("admin", "partner_manager"), NO_ISSUE)
    partners = Partner.objects.visible_to(user).exclude(lifecycle=Lifecycle.TERMINATED).order_by("name")
    if user.staff_role != "admin":
        from django.db.models import Q

        partners = partners.filter(Q(owner=user) | Q(owner__isnull=True))
    initial = {"partner": request.GET.get("partner", "")[:40]}
    form = IssueForm(request.POST or None, partners=partners, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_issue(partner=form.cleaned_data["partner"], template=form.cleaned_data["template"], actor=user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Issued to {agreement.partner}; its admins are asked to sign.")
            return redirect("agreement_detail", public_id=agreement.public_id)
    return render(request, "agreements/agreement_issue.html", {"form": form})


# --- templates -------------------------------------------------------------------------------


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    require(access.can_manage_templates(request.user), NO_TEMPLATES)
    templates = AgreementTemplate.objects.prefetch_related("versions")
    return render(request, "agreements/template_list.html", {"templates": templates})


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    require(access.can_manage_templates(request.user), NO_TEMPLATES)
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Template created with version 1.")
            return redirect("agreement_template_detail", public_id=template.public_id)
    return render(request, "agreements/template_form.html", {"form": form})


def _template(request: HttpRequest, public_id: str) -> AgreementTemplate:
    require(access.can_manage_templates(request.user), NO_TEMPLATES)
    return get_for_user(AgreementTemplate, request.user, public_id)


@login_required
def template_detail(request: HttpRequest, public_id: str, form: VersionForm | None = None) -> HttpResponse:
    template = _template(request, public_id)
    latest = template.latest
    versions = list(template.versions.all())
    form = form or VersionForm(initial={"title": latest.title, "body": latest.body} if latest else None)
    return render(request, "agreements/template_detail.html", {
        "template": template, "versions": versions, "form": form, "latest_body": body_html(latest.body) if latest else "",
        "history": audit.history(template)[:20],
    })


@login_required
@require_POST
def version_publish(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            version = services.version_publish(template=template, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} published; agreements issued from now on use it.")
            return redirect("agreement_template_detail", public_id=template.public_id)
    return template_detail(request, public_id, form=form)
