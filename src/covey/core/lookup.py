"""Type-to-search inputs for choices too many for a <select>.

A vendor with a million opportunities cannot ship them all in a drop-down. Forms keep their
ModelChoiceField (validation still goes through the visible queryset); when the visible set is
larger than ``THRESHOLD`` the field is rendered as a text box whose suggestions come from
``/lookup/<kind>/?q=`` — scoped by the same ``visible_to(user)`` as everything else.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse

THRESHOLD = 200


def lookup_threshold() -> int:
    return THRESHOLD  # read at call time, so tests can lower it


class LookupInput(forms.TextInput):
    template_name = "includes/lookup_input.html"

    def __init__(self, kind: str, attrs=None):
        super().__init__(attrs={"placeholder": "Type a name, then pick a suggestion", "autocomplete": "off", **(attrs or {})})
        self.kind = kind

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["lookup_url"] = reverse("lookup", kwargs={"kind": self.kind})
        context["widget"]["list_id"] = f"{attrs.get('id', name)}-suggestions"
        return context


def use_lookup_when_large(field: forms.ModelChoiceField, kind: str) -> None:
    """Switch ``field`` to a type-to-search box when its queryset is too large to list."""
    if field.queryset[: lookup_threshold() + 1].count() > lookup_threshold():
        field.widget = LookupInput(kind)
        field.help_text = (field.help_text + " " if field.help_text else "") + "Type at least two letters to search."
