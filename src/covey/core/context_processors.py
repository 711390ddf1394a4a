from __future__ import annotations

from covey.core.access import CRM_EDITORS
from covey.core.models import VendorSettings
from covey.core.notify import unread_count


def covey(request):
    """Company name and the navigation for the signed-in user's role."""
    user = request.user
    nav = []
    if user.is_authenticated:
        nav.append(("home", "Home"))
        # A partner user's "partners" page is its own company's profile.
        nav.append(("partner_list", "Partners" if user.is_vendor else "Our company"))
        if user.is_vendor:
            nav.append(("pipeline", "Partner pipeline"))
            nav.append(("evaluation_ranking", "Evaluation"))
            nav.append(("tier_review_list", "Tier reviews"))
            nav.append(("analytics_dashboard", "Analytics"))
            nav.append(("survey_campaign_list", "Partner surveys"))
        else:
            nav.append(("my_tier", "Our tier"))
            nav.append(("analytics_partner_dashboard", "Our performance"))
            nav.append(("survey_mine", "Surveys"))
        nav.append(("agreement_list", "Agreements"))
        nav.append(("program_list", "Programs"))
        # Partner users see the accounts of the deals their partner is on.
        nav.append(("account_list", "Accounts"))
        nav.append(("registration_list", "Registrations"))
        nav.append(("opportunity_list", "Opportunities"))
        nav.append(("proposal_list", "Joint proposals"))
        nav.append(("joint_plan_list", "Account plans"))
        nav.append(("mapping_home", "Account mapping"))
        nav.append(("activity_list", "Activities"))
        nav.append(("plan_list", "Plans"))
        nav.append(("escalation_list", "Escalations"))
        nav.append(("business_plan_list", "Business plans"))
        nav.append(("mdf_request_list", "Market funds"))
        nav.append(("training_home", "Training"))
        nav.append(("library", "Library"))
        nav.append(("announcement_list", "Partner news"))
        nav.append(("product_list", "Products"))
        nav.append(("statement_list", "Statements"))
        nav.append(("earnings", "Earnings" if not user.is_vendor else "Ledger"))
        if user.is_vendor:
            nav.append(("payout_run_list", "Payout runs"))
            nav.append(("batch_list", "Payout batches"))
        if user.staff_role in CRM_EDITORS:
            nav.append(("interchange_home", "Co-sell interchange"))
    vendor = VendorSettings.current() if user.is_authenticated else None
    unread = unread_count(user) if user.is_authenticated else 0
    return {"nav_items": nav, "vendor": vendor, "unread_notifications": unread}
