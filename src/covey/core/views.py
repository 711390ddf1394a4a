from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core import services as core_services
from covey.core.access import is_admin, require
from covey.core.forms import ApiTokenForm, VendorSettingsForm
from covey.core.models import ApiToken, Notification, VendorSettings
from covey.core.services import update_object
from covey.crm.models import Account, Activity, Opportunity, Stage
from covey.partners.models import Partner


@login_required
def home(request: HttpRequest) -> HttpResponse:
    vendor = VendorSettings.current()
    quarter = vendor.calendar.quarter_of(timezone.localdate())
    opportunities = Opportunity.objects.visible_to(request.user)
    open_by_currency = (
        opportunities.open().values("currency").annotate(total=Sum("amount_minor"), n=Count("id")).order_by("-total")
    )
    won_this_quarter = (
        opportunities.won().filter(close_date__range=(quarter.start, quarter.end))
        .values("currency").annotate(total=Sum("amount_minor"), n=Count("id")).order_by("-total")
    )
    by_stage = opportunities.open().values("stage").annotate(n=Count("id"))
    stage_counts = {row["stage"]: row["n"] for row in by_stage}
    context = {
        "quarter": quarter,
        "open_by_currency": _money_rows(open_by_currency),
        "won_this_quarter": _money_rows(won_this_quarter),
        "partner_count": Partner.objects.visible_to(request.user).filter(lifecycle="active").count(),
        "stages": [(s.label, stage_counts.get(s.value, 0)) for s in Stage if s not in (Stage.CLOSED_WON, Stage.CLOSED_LOST)],
        "recent_activities": Activity.objects.visible_to(request.user).select_related("opportunity", "partner")[:8],
        "closing_soon": opportunities.open().filter(close_date__gte=timezone.localdate())
        .select_related("account").order_by("close_date")[:8],
    }
    return render(request, "core/home.html", context)


def _money_rows(rows):
    from covey.core.money import Money

    return [{"money": Money(r["total"] or 0, r["currency"]), "count": r["n"]} for r in rows]


@login_required
def vendor_settings(request: HttpRequest) -> HttpResponse:
    require(is_admin(request.user), "Only an admin can change the company settings")
    vendor = VendorSettings.current()
    form = VendorSettingsForm(request.POST or None, instance=vendor)
    if request.method == "POST" and form.is_valid():
        update_object(vendor, actor=request.user, **{f: form.cleaned_data[f] for f in form.fields})
        messages.success(request, "Settings saved.")
        return redirect("vendor_settings")
    return render(request, "core/settings.html", {"form": form, "history": audit.history(vendor)[:20]})


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        token, new_key = core_services.token_issue(user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"])
        form = ApiTokenForm()
    tokens = request.user.api_tokens.all()
    return render(request, "core/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    # Tokens are personal: another user's token id is simply not found.
    token = get_object_or_404(ApiToken, public_id=public_id, user=request.user)
    if core_services.token_revoke(token=token, actor=request.user):
        messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("token_list")


LOOKUPS = {
    # kind -> (model, search field, label)
    "accounts": (Account, "name", lambda a: f"{a.name}{' · ' + a.domain if a.domain else ''}"),
    "opportunities": (Opportunity, "name", lambda o: f"{o.name} · {o.account.name}"),
    "partners": (Partner, "name", lambda p: p.name),
}


NOTIFICATIONS_PER_PAGE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user)
    show = "all" if request.GET.get("show") == "all" else "unread"
    shown = mine if show == "all" else mine.filter(read_at__isnull=True)
    return render(request, "core/notifications.html", {
        "notifications": shown[:NOTIFICATIONS_PER_PAGE], "show": show, "unread": mine.filter(read_at__isnull=True).count(),
    })


@login_required
@require_POST
def notification_open(request: HttpRequest, public_id: str) -> HttpResponse:
    """Mark one notification read and go where it points (only ever a path inside Covey)."""
    note = get_object_or_404(Notification, public_id=public_id, recipient=request.user)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    target = note.url if note.url.startswith("/") and not note.url.startswith("//") else ""
    return redirect(target or "notification_list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    changed = Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"Marked {changed} notification{'s' if changed != 1 else ''} as read.")
    return redirect("notification_list")


@login_required
def lookup(request: HttpRequest, kind: str) -> HttpResponse:
    """Suggestions for a type-to-search field: <option>s of the user's visible records."""
    if kind not in LOOKUPS:
        raise Http404("No such lookup")
    model, field, label = LOOKUPS[kind]
    q = request.GET.get("q", "").strip()[:100]
    rows = []
    if len(q) >= 2:
        qs = model.objects.visible_to(request.user).filter(**{f"{field}__icontains": q}).order_by(field)
        if model is Opportunity:
            qs = qs.select_related("account")
        rows = [(obj.public_id, label(obj)) for obj in qs[:20]]
    return render(request, "includes/lookup_options.html", {"rows": rows})


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "Your role does not allow this."
    return _error(request, 403, "Not allowed", message)


def page_not_found(request, exception=None):
    return _error(request, 404, "Not found", "There is nothing here, or you do not have access to it.")


def server_error(request):
    return _error(request, 500, "Something went wrong", "The error has been logged.")


def health(request: HttpRequest) -> HttpResponse:
    """``/healthz`` for load balancers and orchestrators: 200 when this process can query its database,
    503 otherwise. No log-in and nothing private: the version and the check results only."""
    from django.db import DatabaseError, connection
    from django.http import JsonResponse

    import covey

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except DatabaseError as exc:
        database = f"error: {type(exc).__name__}"
    ok = database == "ok"
    return JsonResponse({"status": "ok" if ok else "unavailable", "database": database, "version": covey.__version__},
                        status=200 if ok else 503)

