"""Account mapping in the product: account lists, populations, sharing rules, mapping runs and their
matched pairs. The matching itself is ``covey.mapping`` (a library without models); this app stores
what goes in and what comes out, and decides who sees what.

Design:
- An ``AccountList`` belongs to one side: the vendor's own list ("ours", ``partner`` null, one per
  installation, rebuilt from the CRM's accounts) or a partner's (uploaded by the partner or its
  manager, several allowed). Its rows (``ListRow``) are written in bulk, one *version* per upload or
  rebuild: a refresh writes version n+1 next to n, so the results of the last finished run keep
  pointing at rows that still exist until the next run finishes; older versions are dropped then.
- A ``Population`` is a named filter over one list's rows (customers, open opportunities, prospects
  or custom: industry, country, region, size, owner), defined by the side that owns the list.
- A ``SharingRule`` says how much of one population its owner shows the other side: for a vendor
  population, per partner; for a partner's population, to the vendor (``partner`` = that partner).
  No rule means *counts only*. ``covey.accountmaps.selectors`` is the one place that applies them.
- A ``MappingRun`` matches the vendor's list with one partner list in a background task; its
  ``MatchedPair`` rows (our row, their row, kind, score) have no stored public id: a pair's id is
  computed from its key (``covey.core.ids.encode_id``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField, decode_id, encode_id

PAIR_PREFIX = "mpr"


class ListSource(models.TextChoices):
    CRM = "crm", "Our CRM accounts"
    UPLOAD = "upload", "Uploaded file"


class AccountListQuerySet(models.QuerySet):
    def visible_to(self, user) -> AccountListQuerySet:
        """Vendor staff see every list; a partner user sees its own partner's lists and never the
        vendor's list itself (what it may see of the vendor's rows goes through the sharing rules)."""
        return partner_rows(self, user)


class AccountList(models.Model):
    public_id = PublicIdField(prefix="alst")
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="account_lists", help_text="Empty for the vendor's own list")
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=10, choices=ListSource.choices)
    version = models.PositiveIntegerField(default=0, help_text="The rows in use; 0 until the first import")
    filename = models.CharField(max_length=255, blank=True)
    columns = models.JSONField(default=dict, blank=True, help_text="Field → header used by the last import")
    report = models.JSONField(default=dict, blank=True, help_text="The last import report")
    row_count = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountListQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=Q(partner__isnull=True), name="one_vendor_list"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ours(self) -> bool:
        return self.partner_id is None


class ListFile(models.Model):
    """The file a list was last read from, so a person can read it again with other columns."""

    account_list = models.OneToOneField(AccountList, on_delete=models.CASCADE, related_name="file")
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"File of {self.account_list}"


class ListForms(models.Model):
    """The normal forms the engine computed for a list's rows in its last run (Parquet, the
    engine's ``FORMS_SCHEMA``): the next run normalises only rows not in it (an incremental run)."""

    account_list = models.OneToOneField(AccountList, on_delete=models.CASCADE, related_name="forms")
    version = models.PositiveIntegerField(help_text="The list version the forms were made from")
    forms_version = models.PositiveSmallIntegerField(help_text="covey.mapping.engine.FORMS_VERSION then")
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Normal forms of {self.account_list} v{self.version}"


class RowStatus(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PROSPECT = "prospect", "Prospect"
    FORMER = "former", "Former customer"


class ListRow(models.Model):
    """One account of one version of a list (written by ``insert_frame``, never one by one)."""

    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="rows")
    version = models.PositiveIntegerField()
    external_id = models.CharField(max_length=255, help_text="The id in the list (CRM id, or 'row N')")
    row = models.PositiveIntegerField(null=True, blank=True, help_text="Spreadsheet row (header = 1)")
    name = models.TextField(blank=True)
    website = models.TextField(blank=True)
    domains = models.TextField(blank=True)
    country = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=60, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=60, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    owner = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=RowStatus.choices, blank=True)
    open_opportunity = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["account_list", "version", "external_id"])]

    def __str__(self) -> str:
        return self.name or self.external_id


class PopulationKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    OPEN_OPPORTUNITIES = "open_opportunities", "Open opportunities"
    PROSPECTS = "prospects", "Prospects"
    CUSTOM = "custom", "Custom filter"


STANDARD_POPULATIONS = (
    (PopulationKind.CUSTOMERS, "Customers"),
    (PopulationKind.OPEN_OPPORTUNITIES, "Open opportunities"),
    (PopulationKind.PROSPECTS, "Prospects"),
)
FILTER_FIELDS = ("status", "industry", "country", "region", "owner", "employees_min", "employees_max")


class PopulationQuerySet(models.QuerySet):
    def visible_to(self, user) -> PopulationQuerySet:
        """Populations of lists the user sees (a partner's own), plus the vendor's populations a
        partner user's partner is not hidden from; ``selectors`` then applies the levels."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        hidden = SharingRule.objects.filter(partner_id=membership.partner_id, level=SharingLevel.HIDDEN).values("population_id")
        return self.filter(Q(account_list__partner_id=membership.partner_id)
                           | (Q(account_list__partner__isnull=True) & ~Q(pk__in=hidden)))


class Population(models.Model):
    public_id = PublicIdField(prefix="pop")
    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="populations")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=PopulationKind.choices)
    filters = models.JSONField(default=dict, blank=True, help_text="For custom populations: field → value")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PopulationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["account_list", "name"], name="population_name_per_list")]

    def __str__(self) -> str:
        return self.name

    def row_filter(self, prefix: str = "") -> Q:
        """The population as a condition on ``ListRow`` (``prefix`` e.g. ``"our_row__"`` from a pair)."""
        def q(**kw) -> Q:
            return Q(**{prefix + k: v for k, v in kw.items()})

        if self.kind == PopulationKind.CUSTOMERS:
            return q(status=RowStatus.CUSTOMER)
        if self.kind == PopulationKind.OPEN_OPPORTUNITIES:
            return q(open_opportunity=True)
        if self.kind == PopulationKind.PROSPECTS:
            return q(status=RowStatus.PROSPECT)
        cond = Q()
        f = self.filters or {}
        for name in ("status", "industry", "country", "region"):
            if f.get(name):
                cond &= q(**{f"{name}__iexact": f[name]})
        if f.get("owner"):
            cond &= q(owner__icontains=f["owner"])
        if f.get("employees_min") not in (None, ""):
            cond &= q(employees__gte=int(f["employees_min"]))
        if f.get("employees_max") not in (None, ""):
            cond &= q(employees__lte=int(f["employees_max"]))
        return cond

    def describe(self) -> str:
        if self.kind != PopulationKind.CUSTOM:
            return self.get_kind_display()
        f = self.filters or {}
        parts = [f"{k.replace('_', ' ')}: {v}" for k, v in f.items() if v not in (None, "")]
        return "; ".join(parts) or "every account"


class SharingLevel(models.TextChoices):
    HIDDEN = "hidden", "Hidden"
    COUNTS = "counts", "Counts only"
    OVERLAPS = "overlaps", "Overlapping records"
    ALL = "all", "All records"


LEVEL_ORDER = {SharingLevel.HIDDEN: 0, SharingLevel.COUNTS: 1, SharingLevel.OVERLAPS: 2, SharingLevel.ALL: 3}
# Fields a side may share of its records (the name is always shown with a record).
SHAREABLE_FIELDS = (
    ("website", "Website"), ("country", "Country"), ("city", "City"), ("industry", "Industry"),
    ("region", "Region"), ("employees", "Employees"), ("owner", "Owner"), ("status", "Status"),
    ("open_opportunity", "Open opportunity"),
)
SHAREABLE = tuple(name for name, _ in SHAREABLE_FIELDS)


class SharingRule(models.Model):
    population = models.ForeignKey(Population, on_delete=models.CASCADE, related_name="sharing_rules")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+",
                                help_text="For a vendor population the partner it is shared with; for a partner's, that partner")
    level = models.CharField(max_length=10, choices=SharingLevel.choices, default=SharingLevel.COUNTS)
    fields = models.JSONField(default=list, blank=True, help_text="Fields shown with overlapping records")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["population", "partner"], name="one_rule_per_population_partner")]

    def __str__(self) -> str:
        return f"{self.population} → {self.partner}: {self.get_level_display()}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class MappingRunQuerySet(models.QuerySet):
    def visible_to(self, user) -> MappingRunQuerySet:
        return partner_rows(self, user)


class MappingRun(models.Model):
    public_id = PublicIdField(prefix="mrun")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="mapping_runs")
    their_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="runs")
    our_version = models.PositiveIntegerField(default=0)
    their_version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    stage = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    incremental = models.BooleanField(default=False, help_text="Only rows changed since the last run were normalised")
    full_reason = models.CharField(max_length=200, blank=True, help_text="Why a run was not incremental")
    rematched_rows = models.PositiveIntegerField(default=0, help_text="Rows (distinct matching fields) normalised in this run")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MappingRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Mapping with {self.their_list} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class MatchKind(models.TextChoices):
    DOMAIN = "domain", "Same domain"
    NAME_EXACT = "name_exact", "Same name, supported"
    NAME_FUZZY = "name_fuzzy", "Similar name, supported"


class MatchedPair(models.Model):
    run = models.ForeignKey(MappingRun, on_delete=models.CASCADE, related_name="pairs")
    our_row = models.ForeignKey(ListRow, on_delete=models.CASCADE, related_name="+")
    their_row = models.ForeignKey(ListRow, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=MatchKind.choices)
    score = models.FloatField()  # name similarity 0–100 from RapidFuzz (not money): ranks and explains a match

    class Meta:
        indexes = [models.Index(fields=["run", "our_row"]), models.Index(fields=["run", "their_row"])]

    def __str__(self) -> str:
        return f"{self.our_row} ↔ {self.their_row}"

    @property
    def public_id(self) -> str:
        return encode_id(PAIR_PREFIX, self.pk)

    @staticmethod
    def key_of(public_id: str) -> int | None:
        return decode_id(PAIR_PREFIX, public_id)


class IntroductionRequest(models.Model):
    """One side asked the other to introduce it to an overlapping account (a notification went out)."""

    public_id = PublicIdField(prefix="intro")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    our_external_id = models.CharField(max_length=255)
    our_name = models.TextField(blank=True)
    their_external_id = models.CharField(max_length=255)
    their_name = models.TextField(blank=True)
    from_vendor = models.BooleanField()
    note = models.CharField(max_length=1000, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Introduction to {self.our_name or self.their_name}"
