"""Small helpers for forms whose data is written by a service.

Views validate input with a form, then call a service that validates the domain rules and raises
``ValidationError``. ``show_service_errors`` puts those messages next to the right field (or on top
of the form), so the person sees them where they typed.

``ServiceForm`` is a ModelForm used for its fields and initial values only: it never writes to its
instance. (A plain ModelForm copies the submitted values onto the instance while validating, which
would make the service's before/after comparison - and so its audit record - see no change.)
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class ServiceForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Related objects are chosen by public id in the HTML, never by integer key.
        for name, f in self.fields.items():
            to_field = getattr(f, "to_field_name", None)
            if to_field and self.instance.pk and name in self.initial:
                related = getattr(self.instance, name, None)
                self.initial[name] = getattr(related, to_field) if related is not None else None

    def _post_clean(self) -> None:
        # Model validation (full_clean, uniqueness) is the service's job; keep the instance untouched.
        return None

    def values(self, *names: str) -> dict:
        """The cleaned values of ``names`` (all fields when empty) that the form has."""
        names = names or tuple(self.fields)
        return {n: self.cleaned_data[n] for n in names if n in self.fields and n in self.cleaned_data}


def show_service_errors(form: forms.BaseForm, exc: ValidationError, field_map: Mapping[str, str] | None = None) -> None:
    """Attach a service's ``ValidationError`` to ``form``: per field where the form has the field."""
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = field_map.get(name, name)
            for error in errors:
                message = " ".join(error.messages)
                if target in form.fields and target != NON_FIELD_ERRORS:
                    form.add_error(target, message)
                else:
                    # A rule about a field the form does not show: name it so the message still makes sense.
                    label = name.replace("_", " ").capitalize()
                    form.add_error(None, message if name == NON_FIELD_ERRORS else f"{label}: {message}")
    else:
        for message in exc.messages:
            form.add_error(None, message)


def error_text(exc: ValidationError) -> str:
    """All messages of a ValidationError as one sentence list, for a flash message."""
    return " ".join(exc.messages)
