"""Interchange from the outside: the opportunity page's downloads, the /interchange/ import page, the
``covey ace`` / ``covey referrals`` commands and the API endpoints."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from typer.testing import CliRunner

from covey.cli import app
from covey.crm.models import Opportunity
from covey.interchange import ace
from covey.interchange.models import AceLink, EngagementInvitation, ReferralLink
from tests.test_api import as_user, assert_error

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"
runner = CliRunner()


# --- pages ------------------------------------------------------------------------------------


def test_editors_see_both_export_buttons_on_the_opportunity_and_partners_do_not(world, login):
    url = reverse("opportunity_detail", args=[world.opportunity_a.public_id])
    page = login(world.sales_rep).get(url).content.decode()
    assert "Export to AWS ACE" in page and "Export as Microsoft referral" in page
    page = login(world.a_admin).get(url).content.decode()
    assert "Export to AWS ACE" not in page


def test_the_ace_download_is_a_validated_json_file(world, login):
    response = login(world.sales_rep).get(reverse("opportunity_ace_export", args=[world.opportunity_a.public_id]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    exported = json.loads(response.content)
    ace.validate(exported["operation"], exported["request"])


def test_the_referral_download_carries_the_exact_deal_value(world, login):
    response = login(world.sales_rep).get(reverse("opportunity_referral_export", args=[world.opportunity_a.public_id]))
    assert response.status_code == 200
    assert json.loads(response.content, parse_float=Decimal)["details"]["dealValue"] == Decimal("24000.00")


def test_a_deal_the_aws_model_refuses_comes_back_to_the_page_with_the_reason(world, login):
    # VES is an ISO 4217 currency Covey accepts, but not one of the model's CurrencyCode values.
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(currency="VES")
    client = login(world.sales_rep)
    response = client.get(reverse("opportunity_ace_export", args=[world.opportunity_a.public_id]), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Not exported" in page and "CurrencyCode" in page and "VES" in page
    error = assert_error(as_user(world.sales_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}/ace"),
                         422, "validation_error")
    assert "CurrencyCode" in error["detail"]


@pytest.mark.parametrize(("who", "status"), [("finance", 403), ("a_admin", 404), ("b_rep", 404)])
def test_only_crm_editors_reach_the_interchange(world, login, who, status):
    client = login(getattr(world, who))
    assert client.get(reverse("interchange_home")).status_code == status
    assert client.get(reverse("opportunity_ace_export", args=[world.opportunity_a.public_id])).status_code == status


def test_uploading_ace_samples_shows_the_report_with_unknown_values(world, login):
    upload = SimpleUploadedFile("ace.json", (FIXTURES / "ace_get_opportunity_unknown_need.json").read_bytes())
    response = login(world.sales_rep).post(reverse("interchange_home"), {"kind": "ace", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200 and "Import finished" in page
    assert "Do Not Need Support from AWS Sales Rep" in page and "PrimaryNeedsFromAws[]" in page
    assert AceLink.objects.filter(identifier="O11478075").exists()


def test_uploading_a_bad_file_says_nothing_was_imported(world, login):
    upload = SimpleUploadedFile("bad.json", b"{oops")
    response = login(world.sales_rep).post(reverse("interchange_home"), {"kind": "referrals", "file": upload})
    assert response.status_code == 422 and "Nothing was imported" in response.content.decode()


def test_an_invitation_is_accepted_from_the_page(world, login):
    client = login(world.sales_rep)
    upload = SimpleUploadedFile("inv.json", (FIXTURES / "ace_get_engagement_invitation.json").read_bytes())
    client.post(reverse("interchange_home"), {"kind": "ace", "file": upload})
    invitation = EngagementInvitation.objects.get()
    response = client.post(reverse("interchange_invitation_decide", args=[invitation.public_id]), {"decision": "accept"})
    assert json.loads(response.content)["operation"] == "AcceptEngagementInvitation"
    invitation.refresh_from_db()
    assert invitation.status == "ACCEPTED" and invitation.opportunity is not None


# --- CLI --------------------------------------------------------------------------------------


def test_cli_exports_an_ace_request_to_a_file(world, tmp_path):
    out = tmp_path / "ace.json"
    result = runner.invoke(app, ["ace", "export", world.opportunity_a.public_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text())
    assert exported["operation"] == "CreateOpportunity"
    ace.validate(exported["operation"], exported["request"])


def test_cli_import_prints_the_report_of_unknown_values(world):
    result = runner.invoke(app, ["ace", "import", str(FIXTURES / "ace_get_opportunity_unknown_need.json")])
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output and "Do Not Need Support from AWS Sales Rep" in result.output


def test_cli_decides_an_imported_invitation(world):
    runner.invoke(app, ["ace", "import", str(FIXTURES / "ace_get_engagement_invitation.json")])
    result = runner.invoke(app, ["ace", "decide", "engi-0000001abc3de", "reject", "--reason", "Unable to support"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["operation"] == "RejectEngagementInvitation"


def test_cli_referrals_round_trip(world, tmp_path):
    out = tmp_path / "ref.json"
    assert runner.invoke(app, ["referrals", "export", world.opportunity_a.public_id, "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["referrals", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "unchanged 1" in result.output and ReferralLink.objects.filter(opportunity=world.opportunity_a).exists()


@pytest.mark.parametrize("args", [
    ["ace", "export", "opp_doesnotexist"],
    ["referrals", "export", "opp_doesnotexist"],
    ["ace", "import", "/nonexistent/file.json"],
    ["ace", "decide", "engi-x", "maybe"],
])
def test_cli_bad_input_exits_2_with_a_message(world, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.output.strip()


def test_cli_refused_import_exits_2_and_writes_nothing(world, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"status": "Closed", "substatus": "Accepted"}))
    result = runner.invoke(app, ["referrals", "import", str(bad)])
    assert result.exit_code == 2 and "Nothing imported" in result.output
    assert not ReferralLink.objects.exists()


# --- API --------------------------------------------------------------------------------------


def test_api_answers_the_validated_ace_payload(world):
    response = as_user(world.sales_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}/ace")
    assert response.status_code == 200
    body = response.json()
    ace.validate(body["operation"], body["request"])


def test_api_referral_has_the_deal_value_as_a_number(world):
    response = as_user(world.sales_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}/referral")
    assert response.status_code == 200 and b'"dealValue": 24000.00' in response.content


def test_api_ace_import_reports_unknown_values(world):
    raw = (FIXTURES / "ace_get_opportunity_unknown_need.json").read_bytes()
    response = as_user(world.sales_rep).send("POST", "/api/interchange/ace/import", raw=raw)
    assert response.status_code == 200
    assert response.json()["unknown_values"] == {"PrimaryNeedsFromAws[]": ["Do Not Need Support from AWS Sales Rep"]}


def test_api_refuses_unreadable_and_illegal_documents_in_the_error_shape(world):
    api = as_user(world.sales_rep)
    assert_error(api.send("POST", "/api/interchange/ace/import", raw=b"{nope"), 400, "bad_input")
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won")
    body = {"externalReferenceId": world.opportunity_a.public_id, "status": "Active", "substatus": "Accepted"}
    error = assert_error(api.post("/api/interchange/referrals/import", body), 422, "validation_error")
    assert "cannot become Active" in error["detail"]


def test_api_operations_have_summaries_and_descriptions(world):
    schema = as_user(world.sales_rep).get("/api/openapi.json").json()
    ops = [op for path, item in schema["paths"].items() for op in item.values()
           if isinstance(op, dict) and "interchange" in op.get("tags", [])]
    assert len(ops) == 4
    assert all(op.get("summary") and op.get("description") for op in ops)
