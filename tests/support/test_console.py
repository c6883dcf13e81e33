"""The console table at /support/links/: filters, search, sorting, keyset pages, URL state, bad input."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from crm_admin.directory import ORDERINGS
from crm_admin.keyset import LAST
from support.console import COLUMNS
from tests.crm_admin.test_pages import Element, parse
from tests.factories import AccountFactory
from tests.support.conftest import LEGACY_ORG_15

pytestmark = pytest.mark.django_db

URL = reverse("support:links")


def slugs(response) -> list[str]:
    """The account slugs of the table's rows, in order, as rendered (row headers hold name and slug)."""
    table = console_table(parse(response.content))
    if table is None:
        return []
    return [
        code.text
        for row in table.iter()
        if row.tag == "th" and row.attrs.get("scope") == "row"
        for code in row.iter()
        if code.tag == "code"
    ]


def console_table(page: Element) -> Element | None:
    tables = [e for e in page.iter() if e.tag == "table" and "table--console" in e.attrs.get("class", "")]
    return tables[0] if tables else None


def page_link(page: Element, label: str) -> str | None:
    """The href of a pagination link, or None when it is shown as text (no such page)."""
    (nav,) = [e for e in page.iter() if e.tag == "nav" and e.attrs.get("aria-label") == "Pages of links"]
    (item,) = [e for e in nav.iter() if e.tag in ("a", "span") and e.text == label]
    return item.attrs.get("href") if item.tag == "a" else None


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- Filters and search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["acme-uk", "globex", "initech", "umbrella"]),
        ({"status": "linked"}, ["acme-uk", "umbrella"]),
        ({"status": "legacy"}, ["globex"]),
        ({"status": "unlinked"}, ["initech"]),
        ({"org_type": "sandbox"}, ["umbrella"]),
        ({"org_type": "production"}, ["acme-uk", "globex"]),
        ({"attention": "yes"}, ["umbrella"]),
        ({"attention": "no"}, ["acme-uk", "globex", "initech"]),
        ({"status": "linked", "org_type": "production", "attention": "no"}, ["acme-uk"]),
    ],
)
def test_filters(support_client, directory_data, query, expected):
    response = support_client.get(URL, query)
    assert response.status_code == 200
    assert slugs(response) == expected
    assert f"{len(expected)} account" in parse(response.content).by_id("results-heading").text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("united kingdom", ["acme-uk"]),  # name
        ("Umbrella", ["umbrella"]),  # name, any case
        ("GLOBEX", ["globex"]),  # slug
        ("integration.user@acme", ["acme-uk"]),  # API username
        ("old.api@globex.example", ["globex"]),  # legacy username
        ("no-such-thing", []),
    ],
)
def test_search_by_name_slug_and_username(support_client, directory_data, text, expected):
    assert slugs(support_client.get(URL, {"q": text})) == expected


def test_search_by_org_id_in_15_or_18_characters(support_client, directory_data):
    org_id = directory_data.api_user.org_id
    for text in (org_id, org_id[:15], org_id.lower(), f" {org_id} "):
        assert slugs(support_client.get(URL, {"q": text})) == ["acme-uk"], text
    assert slugs(support_client.get(URL, {"q": LEGACY_ORG_15})) == ["globex"]


def test_search_by_api_user_id(support_client, directory_data):
    user_id = directory_data.other_api_user.user_id
    for text in (user_id, user_id[:15], user_id.lower()):
        assert slugs(support_client.get(URL, {"q": text})) == ["umbrella"], text


def test_the_form_shows_the_filters_in_use(support_client, directory_data):
    page = parse(support_client.get(URL, {"q": "acme", "status": "linked", "size": "25"}).content)
    inputs = {e.attrs.get("name"): e for e in page.iter() if e.tag in ("input", "select")}
    assert inputs["q"].attrs["value"] == "acme"
    selected = {
        name: [o.attrs.get("value") for o in inputs[name].iter() if o.tag == "option" and "selected" in o.attrs]
        for name in ("status", "org_type", "attention", "size")
    }
    assert selected == {"status": ["linked"], "org_type": [""], "attention": [""], "size": ["25"]}


def test_the_submitted_form_redirects_to_a_short_url_worth_sharing(support_client, directory_data):
    submitted = {
        "q": " acme ",
        "status": "linked",
        "org_type": "",
        "attention": "",
        "size": "50",
        "sort": "",
        "dir": "",
    }
    response = support_client.get(URL, submitted)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?q=acme&status=linked"
    assert slugs(support_client.get(response["Location"])) == ["acme-uk"]


# --- Sorting ------------------------------------------------------------------------------------------------


def headers(page: Element) -> list[Element]:
    return [e for e in console_table(page).iter() if e.tag == "th" and e.attrs.get("scope") == "col"]


def test_every_column_has_a_sort_link_and_only_the_sorted_one_has_aria_sort(support_client, directory_data):
    page = parse(support_client.get(URL, {"sort": "linked_at", "dir": "desc", "status": "linked"}).content)
    found = headers(page)
    assert [h.text for h in found] == [label for label, _ in COLUMNS]
    assert {sort for _, sort in COLUMNS} == set(ORDERINGS)
    sorted_headers = [h for h in found if "aria-sort" in h.attrs]
    assert [(h.text, h.attrs["aria-sort"]) for h in sorted_headers] == [("Linked at", "descending")]
    for header, (_, sort) in zip(found, COLUMNS, strict=True):
        (link,) = [e for e in header.iter() if e.tag == "a"]
        query = params(link.attrs["href"])
        assert query.get("status") == ["linked"], "sorting keeps the filters"
        assert "cursor" not in query, "sorting starts at the first page"
        if sort == "linked_at":
            assert "dir" not in query, "the sorted column's link reverses it"
        else:
            assert query.get("sort", ["account"]) == [sort] and "dir" not in query


def test_the_account_header_toggles_between_ascending_and_descending(support_client, directory_data):
    ascending = parse(support_client.get(URL).content)
    (account_header, *_) = headers(ascending)
    assert account_header.attrs["aria-sort"] == "ascending"
    (link,) = [e for e in account_header.iter() if e.tag == "a"]
    assert params(link.attrs["href"]) == {"dir": ["desc"]}
    response = support_client.get(link.attrs["href"])
    assert slugs(response) == ["umbrella", "initech", "globex", "acme-uk"]
    assert headers(parse(response.content))[0].attrs["aria-sort"] == "descending"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("status", ["globex", "acme-uk", "umbrella", "initech"]),  # legacy < linked < unlinked; ties by id
        ("org_type", ["initech", "acme-uk", "globex", "umbrella"]),  # "" < production < sandbox
        ("api_username", ["globex", "initech", "acme-uk", "umbrella"]),
    ],
)
def test_sort_by_a_column(support_client, directory_data, sort, expected):
    assert slugs(support_client.get(URL, {"sort": sort})) == expected
    assert slugs(support_client.get(URL, {"sort": sort, "dir": "desc"})) == expected[::-1]


def test_sort_by_health_check_puts_never_checked_last(support_client, directory_data):
    assert slugs(support_client.get(URL, {"sort": "health_checked_at"}))[:2] == ["acme-uk", "umbrella"]


@pytest.mark.parametrize("sort", ["health_checked_at", "linked_at"])
def test_newest_first_still_puts_the_blanks_last(support_client, directory_data, sort):
    """Descending is "newest first": accounts never checked (or never linked) follow, not lead."""
    newest_first = slugs(support_client.get(URL, {"sort": sort, "dir": "desc"}))
    oldest_first = slugs(support_client.get(URL, {"sort": sort}))
    dated = 2  # acme-uk and umbrella are linked and checked; globex and initech are not
    assert newest_first[:dated] == oldest_first[:dated][::-1]
    assert set(newest_first[dated:]) == set(oldest_first[dated:]) == {"globex", "initech"}


# --- Keyset pages -------------------------------------------------------------------------------------------


@pytest.fixture
def sixty(db):
    for n in range(60):
        AccountFactory(slug=f"page-{n:02d}", name=f"Paged {n:02d}")
    return [f"page-{n:02d}" for n in range(60)]


def test_first_middle_and_last_pages(support_client, sixty):
    first = support_client.get(URL, {"size": "25"})
    page = parse(first.content)
    assert slugs(first) == sixty[:25]
    assert page_link(page, "First") is None and page_link(page, "Previous") is None
    assert params(page_link(page, "Last")) == {"size": ["25"], "cursor": [LAST]}

    middle = support_client.get(page_link(page, "Next"))
    page = parse(middle.content)
    assert slugs(middle) == sixty[25:50]
    assert all(page_link(page, label) for label in ("First", "Previous", "Next", "Last"))
    assert "cursor" not in params(page_link(page, "First"))

    last = support_client.get(page_link(page, "Last"))
    page = parse(last.content)
    assert slugs(last) == sixty[35:]
    assert page_link(page, "Next") is None and page_link(page, "Last") is None
    back = support_client.get(page_link(page, "Previous"))
    assert slugs(back) == sixty[10:35]


def test_paging_forward_visits_every_row_once_with_the_filters_kept(support_client, sixty):
    seen, url = [], f"{URL}?q=paged&dir=desc&size=25"
    while url:
        response = support_client.get(url)
        seen += slugs(response)
        url = page_link(parse(response.content), "Next")
        if url:
            assert params(url)["q"] == ["paged"] and params(url)["dir"] == ["desc"]
    assert seen == sixty[::-1]


def test_the_total_counts_every_page(support_client, sixty):
    page = parse(support_client.get(URL, {"size": "25", "cursor": LAST}).content)
    assert page.by_id("results-heading").text == "60 accounts"


def test_the_export_link_carries_the_filters_and_sort_but_no_cursor(support_client, sixty):
    response = support_client.get(URL, {"q": "paged", "status": "unlinked", "sort": "status", "size": "25"})
    (export,) = [e for e in parse(response.content).iter() if e.tag == "a" and e.text.startswith("Export CSV")]
    href = export.attrs["href"]
    assert href.startswith(reverse("support:links_export"))
    assert params(href) == {"q": ["paged"], "status": ["unlinked"], "sort": ["status"]}


# --- Bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [{"status": "broken"}, {"org_type": "x"}, {"attention": "maybe"}, {"sort": "password"}, {"size": "10000"}],
)
def test_a_bad_filter_is_a_400_that_says_what_is_wrong(support_client, directory_data, query):
    response = support_client.get(URL, query)
    assert response.status_code == 400
    page = parse(response.content)
    (alert,) = page.by_role("alert")
    assert "valid choice" in alert.text
    assert console_table(page) is None


@pytest.mark.parametrize("cursor", ["garbage", "e30", "eyJkIjoiYWZ0ZXIiLCJrIjpbMV19"])
def test_an_edited_cursor_is_a_400_with_a_way_back(support_client, directory_data, cursor):
    response = support_client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    (alert,) = parse(response.content).by_role("alert")
    assert "out of date" in alert.text


def test_no_match_says_so(support_client, directory_data):
    response = support_client.get(URL, {"q": "zzz-nothing"})
    assert response.status_code == 200
    assert "No account matches these filters" in parse(response.content).text


# --- What a row shows -------------------------------------------------------------------------------------


def row_of(response, slug: str) -> Element:
    table = console_table(parse(response.content))
    (row,) = [r for r in table.iter() if r.tag == "tr" and any(c.tag == "code" and c.text == slug for c in r.iter())]
    return row


def test_a_row_shows_the_link_and_leads_to_the_account_and_its_api_user(support_client, directory_data):
    api_user = directory_data.api_user
    row = row_of(support_client.get(URL), "acme-uk")
    text = row.text
    for expected in ("Acme United Kingdom", "Linked", "Production", api_user.org_id, api_user.username, "1 of 5"):
        assert expected in text
    assert "acme.admin" in text and "Healthy" in text
    hrefs = {a.attrs["href"] for a in row.iter() if a.tag == "a"}
    assert hrefs == {
        reverse("support:account", args=["acme-uk"]),
        reverse("support:api_user", args=[api_user.org_id, api_user.user_id]),
    }


def test_a_row_needing_attention_says_so_with_its_reason(support_client, directory_data):
    text = row_of(support_client.get(URL), "umbrella").text
    assert "Needs attention" in text and "Salesforce revoked this link's access." in text


def test_a_legacy_row_shows_the_legacy_username_and_org(support_client, directory_data):
    text = row_of(support_client.get(URL), "globex").text
    assert "Legacy" in text and "old.api@globex.example" in text and "00D000000000AbC" in text
    assert "Not checked" in text


def test_the_table_has_a_caption_and_labelled_controls(support_client, directory_data):
    page = parse(support_client.get(URL, {"q": "acme"}).content)
    table = console_table(page)
    (caption,) = [e for e in table.iter() if e.tag == "caption"]
    assert "sorted by Account, ascending" in caption.text and "acme" in caption.text
    labels = {e.attrs.get("for") for e in page.iter() if e.tag == "label"}
    controls = [e for e in page.iter() if e.tag in ("input", "select") and e.attrs.get("type") != "hidden"]
    assert controls and all(
        c.attrs.get("id") in labels for c in controls if c.attrs.get("name") != "csrfmiddlewaretoken"
    )
