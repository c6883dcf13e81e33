"""Forms for the CRM Admin page's buttons."""

from __future__ import annotations

from django import forms

from crm_admin.models import OrgType


class LinkStartForm(forms.Form):
    org_type = forms.ChoiceField(choices=OrgType.choices)
    login_hint = forms.CharField(
        label="API username (optional)",
        required=False,
        max_length=255,
        help_text="Checked against the five-accounts limit before Salesforce opens, and pre-filled there.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "email"}),
    )
    #: "popup" when the page's script opened a window for Salesforce; otherwise this tab goes there.
    display = forms.ChoiceField(choices=[("tab", "tab"), ("popup", "popup")], required=False)
    client_ref = forms.UUIDField(required=False, widget=forms.HiddenInput)
