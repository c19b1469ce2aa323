"""What every form of the portal shares."""

from collections.abc import Callable

from django import forms

from rushtrade.errors import FieldError, ServiceError


class BootstrapMixin:
    """Bootstrap classes on every widget, and `aria-invalid` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(
                widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"


def add_service_errors(
    form: forms.BaseForm,
    error: ServiceError,
    *,
    field_of: Callable[[str], str] = lambda name: name,
    elsewhere: Callable[[str, FieldError], str] = lambda name, field_error: field_error.message,
) -> None:
    """Put a service's errors on a form: each field error on the form's field
    (`field_of` maps the service's name to the form's), the others at the top of the
    form (worded by `elsewhere`), and the message itself when no field is named."""
    for name, field_error in error.fields.items():
        target = field_of(name)
        if target in form.fields:
            form.add_error(target, field_error.message)
        else:
            form.add_error(None, elsewhere(name, field_error))
    if not error.fields:
        form.add_error(None, error.message)
