"""Access rows for enablement authoring over the API (the contract is in tests/access_rows/__init__.py).

The pages' rules: admins alone manage the course catalogue; admins and partner managers (both of
them: the role decides, not who owns the partner) manage the library and send the news; a
completion is removed by them or by its partner's admin. The course catalogue is open to everyone
signed in, so a refused course change is a 403 for all; partner A's people see A's resource,
completion, announcement and newsletter (403 when they may not change them), partner B does not
(404). The web pages' rows, and the objects these rows use (the certifying course, A's completion,
the battle card for integrators with its link version, the integrators' announcement and sent
newsletter), are in lifecycle.py; ``ids`` runs once every feature has built its part of the world.
"""

from __future__ import annotations

from tests.matrix import Route

WEB_ROUTES: dict[str, Route] = {}

EVERYONE = (200,) * 11
READ_A = (200,) * 9 + (404,) * 2
ADMIN = (201,) + (403,) * 10
STAFF_CREATE = (201, 201, 201) + (403,) * 8
STAFF_CHANGE_A = (200, 200, 200) + (403,) * 6 + (404,) * 2
STAFF_ADD_A = (201, 201, 201) + (403,) * 6 + (404,) * 2
RES = "/api/resources/{resource_a}"
NEW_COURSE = {"title": "Partner onboarding basics", "kind": "external", "url": "https://academy.example/onboarding"}
NEW_RESOURCE = {"title": "Reseller pricing playbook", "kind": "playbook", "link": "https://docs.example/pricing",
                "partner_types": ["reseller"]}
NEW_ANNOUNCEMENT = {"title": "Spring release", "body": "What is new this spring.", "partner_types": ["system_integrator"]}
NEW_NEWSLETTER = {"subject": "Spring digest", "intro": "Hello partners.", "send_at": "2030-03-01T09:00:00Z"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read course", "GET", "/api/courses/{course}", None,                    EVERYONE),
    ("add course", "POST", "/api/courses", NEW_COURSE,                       ADMIN),
    ("change course", "PATCH", "/api/courses/{course}", {"valid_months": 24}, (200,) + (403,) * 10),
    ("remove completion", "DELETE", "/api/certifications/{completion_a}", None,
                                                                             (204, 204, 204, 403, 403, 403, 204, 403, 403, 404, 404)),
    ("add resource", "POST", "/api/resources", NEW_RESOURCE,                 STAFF_CREATE),
    ("change resource", "PATCH", RES, {"description": "Updated for the spring release"}, STAFF_CHANGE_A),
    ("add resource version", "POST", RES + "/versions", {"link": "https://docs.example/battle-card-v2", "note": "Spring"},
                                                                             STAFF_ADD_A),
    ("download resource version", "GET", RES + "/versions/{resource_version_a}/download", None,
                                                                             (302,) * 9 + (404,) * 2),
    ("read announcement", "GET", "/api/announcements/{announcement_a}", None, READ_A),
    ("publish announcement", "POST", "/api/announcements", NEW_ANNOUNCEMENT,  STAFF_CREATE),
    ("read newsletter", "GET", "/api/newsletters/{newsletter_a}", None,      READ_A),
    ("schedule newsletter", "POST", "/api/newsletters", NEW_NEWSLETTER,      STAFF_CREATE),
]
API_LISTS: list[str] = ["/api/newsletters", "/api/newsletters?limit=1"]


def build(world) -> None:
    """Nothing of its own: lifecycle.py builds the enablement objects the rows use."""


def ids(world) -> dict[str, str]:
    w = world
    return {
        "completion_a": w.completion_a.public_id, "resource_version_a": w.resource_version_a.public_id,
        "announcement_a": w.announcement_a.public_id, "newsletter_a": w.newsletter_a.public_id,
    }


def secrets(world) -> list[str]:
    return []  # lifecycle.py lists the enablement objects' names and ids


def state():
    from covey.core.models import Notification
    from covey.enablement.models import (
        Announcement,
        Completion,
        Course,
        Newsletter,
        Resource,
        ResourceUse,
        ResourceVersion,
    )

    return (
        list(Course.objects.values_list("public_id", "title", "description", "kind", "url", "certifies", "certification_name",
                                        "valid_months", "is_active").order_by("id")),
        list(Completion.objects.values_list("public_id", "expires_on").order_by("id")),
        list(Resource.objects.values_list("public_id", "title", "kind", "description", "partner_types", "tier_codes",
                                          "is_published").order_by("id")),
        list(ResourceVersion.objects.values_list("public_id", "number", "link", "file_name").order_by("id")),
        ResourceUse.objects.count(),
        list(Announcement.objects.values_list("public_id", "title", "recipients").order_by("id")),
        list(Newsletter.objects.values_list("public_id", "subject", "send_at", "sent_at").order_by("id")),
        Notification.objects.count(),
    )
