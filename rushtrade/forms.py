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


class ConditionalFieldsMixin:
    """Fields that apply only for some values of other fields. `show_when` maps a field
    name to a condition (controlling field, values that show it[, True to hide instead]) or
    a list of them (all must hold). Shown or hidden as the customer changes the controlling
    fields (static/portal/conditional.js); rendered hidden when a condition fails for the
    form's current values, and cleaned to blank on the server whatever was sent, so the
    form behaves the same without JavaScript."""

    show_when: dict[str, tuple | list[tuple]] = {}

    def current_value(self, name: str) -> str:
        """A controlling field's value as the page's script reads it: a checkbox is
        "true" or "false", a country its code."""
        field = self.fields[name]
        if self.is_bound:
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        else:
            value = self.get_initial_for_field(field, name)
        if isinstance(field.widget, forms.CheckboxInput):
            return "true" if field.to_python(value) else "false"
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return ""
        return str(getattr(value, "code", value))

    def _conditions(self, name: str) -> list[tuple]:
        condition = self.show_when.get(name)
        if not condition:
            return []
        conditions = condition if isinstance(condition, list) else [condition]
        return [c for c in conditions if c[0] in self.fields]

    def applies(self, name: str) -> bool:
        for controller, values, *hide in self._conditions(name):
            matched = self.current_value(controller) in values
            if matched == bool(hide and hide[0]):
                return False
        return True

    def rows(self) -> list[tuple]:
        """(bound field, applies, condition spec) for the template: the spec is
        "name=v1 v2" conditions joined by ";", a "!" before the name to hide on those
        values."""
        rows = []
        for bound in self.visible_fields():
            spec = ";".join(
                f"{'!' if hide and hide[0] else ''}{self.add_prefix(controller)}={' '.join(values)}"
                for controller, values, *hide in self._conditions(bound.name)
            )
            rows.append((bound, self.applies(bound.name), spec))
        return rows

    def clean(self):
        cleaned = super().clean()
        for name in self.show_when:
            if name in self.fields and not self.applies(name):
                cleaned[name] = _blank(self.fields[name])
                self.errors.pop(name, None)
        return cleaned


def _blank(field: forms.Field):
    if isinstance(field, forms.BooleanField):
        return False
    if isinstance(field, forms.NullBooleanField):
        return None
    return ""
