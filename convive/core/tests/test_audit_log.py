"""The audit log page and its CSV export: who sees what, filters, the export and its record."""

import csv
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import login
from convive.accounts.permissions import ROLE_ACTIONS, SCOPE_NOTES, Action
from convive.accounts.roles import Role
from convive.core import actions
from convive.core.access import OWN_INSTITUTION_ROLES, audit_scope_for, can_verify_audit_chain
from convive.core.audit import record_audit_event, verify_audit_chain
from convive.core.audit_views import CSV_COLUMNS, safe_cell
from convive.core.models import AuditEvent
from convive.core.tags import AUDIT_TAG_LABELS, AuditTag, audit_tag_label
from convive.institutions.tests.factories import MembershipFactory

LOG_URL = "/audit/"
EXPORT_URL = "/audit/export.csv"
NOT_ALLOWED = [r for r in Role if r not in ROLE_ACTIONS[Action.AUDIT_VIEW]]


@pytest.fixture
def client():
    """Pages in English, whatever the catalogue says: the assertions read English labels."""
    return Client(headers={"accept-language": "en"})


def sample_log(world, *, platform_admin, institution_admin, call_taker, supervisor):
    """Two police entries, one of the secretariat, one of the platform (no institution).

    ``all`` also holds the entries recorded before (the ``world`` fixture records one).
    """
    with transaction.atomic():
        login_entry = record_audit_event(
            supervisor, AuditTag.ACCOUNT_LOGIN_SUCCEEDED, data={"ip": "10.0.0.1"}
        )
        member = record_audit_event(
            institution_admin,
            AuditTag.INSTITUTION_MEMBER_ADDED,
            subject=supervisor,
            data={"role": "supervisor"},
        )
        secretariat = record_audit_event(call_taker, AuditTag.ACCOUNT_LOGIN_SUCCEEDED)
        platform = record_audit_event(
            platform_admin,
            AuditTag.ACCOUNT_OTP_RESET,
            subject=call_taker,
            reason='=HYPERLINK("http://evil")',
        )
    return SimpleNamespace(
        police=[login_entry, member],
        secretariat=secretariat,
        platform=platform,
        all=list(AuditEvent.objects.all()),  # with whatever the fixtures recorded before
    )


@pytest.fixture
def log(world, platform_admin, institution_admin, call_taker, supervisor):
    return sample_log(
        world,
        platform_admin=platform_admin,
        institution_admin=institution_admin,
        call_taker=call_taker,
        supervisor=supervisor,
    )


def seqs_on_page(response) -> list[int]:
    return [row.event.seq for row in response.context["rows"]]


def seqs(events) -> list[int]:
    return sorted((e.seq for e in events), reverse=True)


# --- Who may read what ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOG_URL, EXPORT_URL])
def test_anonymous_people_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", NOT_ALLOWED)
@pytest.mark.parametrize("url", [LOG_URL, EXPORT_URL])
def test_other_roles_are_refused(client, persona, role, url, log):
    login(client, persona(role))
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(tag=AuditTag.AUDIT_LOG_EXPORTED).exists()


def test_platform_admins_see_every_entry_newest_first(client, platform_admin, log):
    login(client, platform_admin)
    response = client.get(LOG_URL)
    assert response.status_code == 200
    assert seqs_on_page(response) == seqs(log.all)
    html = response.content.decode()
    assert "Policía Metropolitana" in html
    assert "Secretaría de Seguridad" in html


def test_institution_admins_see_only_their_institution(client, institution_admin, log):
    login(client, institution_admin)
    response = client.get(LOG_URL)
    assert response.status_code == 200
    assert seqs_on_page(response) == seqs(log.police)
    assert "Secretaría de Seguridad" not in response.content.decode()


def test_an_institution_parameter_does_not_widen_an_institution_admins_view(
    client, institution_admin, world, log
):
    login(client, institution_admin)
    response = client.get(LOG_URL, {"institution": world.secretariat.pk})
    assert "institution" not in response.context["form"].fields  # one institution: no choice
    assert seqs_on_page(response) == seqs(log.police)


def test_an_admin_of_two_institutions_sees_and_chooses_both(client, institution_admin, world, log):
    MembershipFactory(
        user=institution_admin, institution=world.secretariat, role=Role.INSTITUTION_ADMIN
    )
    login(client, institution_admin)
    response = client.get(LOG_URL)
    assert seqs_on_page(response) == seqs([*log.police, log.secretariat])
    choices = dict(response.context["form"].fields["institution"].choices)
    assert set(choices) == {"", world.police.pk, world.secretariat.pk}
    response = client.get(LOG_URL, {"institution": world.secretariat.pk})
    assert seqs_on_page(response) == [log.secretariat.seq]
    response = client.get(LOG_URL, {"institution": world.partner.pk})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "institution" in response.context["form"].errors


def test_the_audit_scope_of_each_role(persona, world):
    assert audit_scope_for(persona(Role.PLATFORM_ADMIN)).everything
    admin_scope = audit_scope_for(persona(Role.INSTITUTION_ADMIN))
    assert admin_scope.institution_ids == {world.police.pk}
    for role in NOT_ALLOWED:
        assert audit_scope_for(persona(role)).is_empty
    assert can_verify_audit_chain(persona(Role.PLATFORM_ADMIN))
    assert not can_verify_audit_chain(persona(Role.INSTITUTION_ADMIN))


def test_a_staff_role_elsewhere_does_not_widen_the_scope(institution_admin, world):
    MembershipFactory(user=institution_admin, institution=world.partner, role=Role.SUPERVISOR)
    assert audit_scope_for(institution_admin).institution_ids == {world.police.pk}


def test_own_institution_roles_match_the_permissions_table():
    for action in (Action.AUDIT_VIEW, Action.AUDIT_EXPORT):
        for role in ROLE_ACTIONS[action]:
            scoped = SCOPE_NOTES.get((action, role)) == "own institution"
            assert scoped == (role in OWN_INSTITUTION_ROLES), (action, role)


# --- Filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tag": AuditTag.ACCOUNT_LOGIN_SUCCEEDED}, lambda log: [log.police[0], log.secretariat]),
        ({"actor": "ADMIN_POLICIA"}, lambda log: [log.police[1]]),
        ({"subject_type": "accounts.user"}, lambda log: [log.police[1], log.platform]),
        ({"subject_type": "accounts.user", "subject_id": "nobody"}, lambda log: []),
    ],
)
def test_filters(client, platform_admin, log, params, expected):
    login(client, platform_admin)
    response = client.get(LOG_URL, params)
    assert response.status_code == 200
    assert seqs_on_page(response) == seqs(expected(log))


def test_filter_by_object_id_and_institution(client, platform_admin, supervisor, world, log):
    login(client, platform_admin)
    response = client.get(
        LOG_URL, {"subject_type": "accounts.user", "subject_id": str(supervisor.pk)}
    )
    assert seqs_on_page(response) == [log.police[1].seq]
    response = client.get(LOG_URL, {"institution": world.police.pk})
    assert seqs_on_page(response) == seqs(log.police)


def test_filter_by_dates_in_local_time(client, platform_admin, log):
    login(client, platform_admin)
    today = timezone.localdate()
    one_day = timedelta(days=1)
    cases = [
        ({"date_from": today.isoformat(), "date_to": today.isoformat()}, len(log.all)),
        ({"date_from": (today + one_day).isoformat()}, 0),
        ({"date_to": (today - one_day).isoformat()}, 0),
    ]
    for params, count in cases:
        response = client.get(LOG_URL, params)
        assert response.status_code == 200
        assert len(seqs_on_page(response)) == count, params


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "not-a-date"},
        {"date_to": "2024-02-30"},
        {"date_from": "2025-03-02", "date_to": "2025-03-01"},
        {"tag": "no:such:tag"},
        {"actor": "x" * 151},
    ],
)
def test_bad_filters_are_form_errors(client, platform_admin, log, params):
    login(client, platform_admin)
    response = client.get(LOG_URL, params)
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["page"] is None
    assert response.context["form"].errors
    assert response.context["rows"] == []
    assert 'class="errorlist' in response.content.decode()


def test_pages_of_fifty(client, platform_admin, log, django_assert_max_num_queries):
    with transaction.atomic():
        for n in range(60):
            record_audit_event(platform_admin, AuditTag.ADMIN_OBJECT_CHANGED, data={"n": n})
    login(client, platform_admin)
    with django_assert_max_num_queries(10):  # session, user, memberships, count, one page
        first = client.get(LOG_URL, {"tag": AuditTag.ADMIN_OBJECT_CHANGED})
    assert len(seqs_on_page(first)) == 50
    assert 'rel="next"' in first.content.decode()
    second = client.get(LOG_URL, {"tag": AuditTag.ADMIN_OBJECT_CHANGED, "page": "2"})
    assert len(seqs_on_page(second)) == 10
    assert min(seqs_on_page(first)) > max(seqs_on_page(second))
    assert client.get(LOG_URL, {"page": "abc"}).status_code == 200


# --- What the page shows --------------------------------------------------------------------------


def test_rows_show_labels_local_time_reason_and_details(client, platform_admin, log):
    login(client, platform_admin)
    html = client.get(LOG_URL).content.decode()
    assert str(AUDIT_TAG_LABELS[AuditTag.ACCOUNT_OTP_RESET]) in html
    assert "Institution administrator" in html
    local = timezone.localtime(log.platform.created_at)
    assert local.strftime("%Y-%m-%d<br>%H:%M:%S") in html
    assert str(local.tzinfo) == settings.TIME_ZONE  # the site's zone (America/Bogota), not UTC
    assert "HYPERLINK" in html
    assert "&quot;ip&quot;:&quot;10.0.0.1&quot;" in html


def test_the_page_keeps_to_the_content_security_policy(client, platform_admin, log):
    login(client, platform_admin)
    html = client.get(LOG_URL, {"verify": "1"}).content.decode()
    assert "<script" not in html
    assert "style=" not in html


def test_platform_admins_verify_the_chain_on_demand(client, platform_admin, log):
    login(client, platform_admin)
    response = client.get(LOG_URL)
    assert response.context["chain"] is None
    assert "verify=1" in response.content.decode()
    response = client.get(LOG_URL, {"verify": "1"})
    assert response.context["chain"].ok
    assert log.platform.hash in response.content.decode()


def test_institution_admins_do_not_verify_the_whole_chain(client, institution_admin, log):
    login(client, institution_admin)
    response = client.get(LOG_URL, {"verify": "1"})
    assert response.context["chain"] is None
    assert 'data-testid="chain"' not in response.content.decode()


def test_every_tag_has_a_label():
    assert set(AUDIT_TAG_LABELS) == set(AuditTag)
    assert audit_tag_label("account:login:failed") == str(
        AUDIT_TAG_LABELS[AuditTag.ACCOUNT_LOGIN_FAILED]
    )
    assert audit_tag_label("retired:old:tag") == "retired:old:tag"


# --- CSV export -----------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="convive-audit-')
    text = response.content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == CSV_COLUMNS
    return list(reader)


def test_export_holds_the_filtered_entries_and_is_recorded(client, platform_admin, log):
    login(client, platform_admin)
    response = client.get(EXPORT_URL, {"tag": AuditTag.ACCOUNT_LOGIN_SUCCEEDED})
    assert response.status_code == 200
    rows = read_csv(response)
    assert [int(r["seq"]) for r in rows] == seqs([log.police[0], log.secretariat])
    assert rows[0]["actor_username"] == "operadora"
    assert rows[0]["hash"] == log.secretariat.hash
    export = AuditEvent.objects.get(tag=AuditTag.AUDIT_LOG_EXPORTED)
    assert export.actor_username == "admin_plataforma"
    assert json.loads(export.data) == {
        "filters": {"tag": "account:login:succeeded"},
        "rows": 2,
        "up_to_seq": log.platform.seq,
    }
    assert verify_audit_chain().ok


def test_export_without_filters_holds_everything_but_itself(client, platform_admin, log):
    login(client, platform_admin)
    rows = read_csv(client.get(EXPORT_URL))
    assert [int(r["seq"]) for r in rows] == seqs(log.all)
    export = AuditEvent.objects.get(tag=AuditTag.AUDIT_LOG_EXPORTED)
    assert json.loads(export.data)["filters"] == {}


def test_institution_admins_export_only_their_institution(client, institution_admin, world, log):
    login(client, institution_admin)
    rows = read_csv(client.get(EXPORT_URL))
    assert [int(r["seq"]) for r in rows] == seqs(log.police)
    assert {r["institution_name"] for r in rows} == {"Policía Metropolitana"}
    export = AuditEvent.objects.get(tag=AuditTag.AUDIT_LOG_EXPORTED)
    assert export.institution_id == world.police.pk  # so the institution sees its exports too


def test_export_defuses_spreadsheet_formulas(client, platform_admin, log):
    login(client, platform_admin)
    rows = read_csv(client.get(EXPORT_URL, {"tag": AuditTag.ACCOUNT_OTP_RESET}))
    assert rows[0]["reason"] == '\'=HYPERLINK("http://evil")'
    for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert safe_cell(cell) == f"'{cell}"
    assert safe_cell("plain") == "plain"
    assert safe_cell(None) == ""
    assert safe_cell(7) == "7"


def test_export_with_bad_filters_records_nothing(client, platform_admin, log):
    login(client, platform_admin)
    response = client.get(EXPORT_URL, {"date_from": "yesterday"})
    assert response.status_code == 400
    assert "date_from" in response.context["form"].errors
    assert not AuditEvent.objects.filter(tag=AuditTag.AUDIT_LOG_EXPORTED).exists()


def test_an_export_too_large_is_refused_and_not_recorded(client, platform_admin, log, monkeypatch):
    monkeypatch.setattr(actions, "AUDIT_EXPORT_MAX_ROWS", 3)
    login(client, platform_admin)
    response = client.get(EXPORT_URL)
    assert response.status_code == 400
    assert "narrow the filters" in str(response.context["form"].non_field_errors())
    assert not AuditEvent.objects.filter(tag=AuditTag.AUDIT_LOG_EXPORTED).exists()


def test_the_log_page_links_to_the_export_with_its_filters(client, platform_admin, log):
    login(client, platform_admin)
    html = client.get(LOG_URL, {"tag": AuditTag.ACCOUNT_OTP_RESET, "page": "1"}).content.decode()
    assert f'href="{EXPORT_URL}?tag=account%3Aotp%3Areset"' in html
