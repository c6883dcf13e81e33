"""The console's filter form: the URL's query string in, a ``LinkQuery`` out.

Hand-written on Django forms rather than django-filter: ``crm_admin.directory.LinkQuery`` already owns
the filtering (one indexed predicate per search shape), so a FilterSet would only duplicate it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from crm_admin.directory import DEFAULT_SORT, ORDERINGS, PAGE_SIZE, LinkQuery
from crm_admin.models import LinkStatus, OrgType

ATTENTION_CHOICES = [("", "Any"), ("yes", "Needs attention"), ("no", "No attention needed")]
PAGE_SIZES = [25, 50, 100, 200]
DIRECTIONS = [("asc", "Ascending"), ("desc", "Descending")]


class ConsoleForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Account name or slug, org id (15 or 18 characters), API username or API user id.",
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false", "aria-describedby": "id_q_help"}
        ),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any"), *LinkStatus.choices])
    org_type = forms.ChoiceField(label="Org type", required=False, choices=[("", "Any"), *OrgType.choices])
    attention = forms.ChoiceField(label="Needs attention", required=False, choices=ATTENTION_CHOICES)
    size = forms.TypedChoiceField(
        label="Rows per page",
        required=False,
        coerce=int,
        empty_value=PAGE_SIZE,
        choices=[(size, str(size)) for size in PAGE_SIZES],
    )
    sort = forms.ChoiceField(required=False, choices=[(name, name) for name in ORDERINGS], widget=forms.HiddenInput)
    dir = forms.ChoiceField(required=False, choices=DIRECTIONS, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict | None = None, **kwargs: Any) -> None:
        if data is not None and not data.get("size"):
            data = data.copy()
            data["size"] = str(PAGE_SIZE)  # so the select shows the size in use
        super().__init__(data, **kwargs)

    def to_query(self, *, cursor: str = "") -> LinkQuery:
        """Return the directory query the (valid) form asks for, at ``cursor``."""
        data = self.cleaned_data
        return LinkQuery(
            status=data["status"],
            org_type=data["org_type"],
            needs_attention={"yes": True, "no": False}.get(data["attention"]),
            q=data["q"],
            sort=data["sort"] or DEFAULT_SORT,
            descending=data["dir"] == "desc",
            cursor=cursor,
            size=data["size"],
        )
