"""The shared form field: a screen reader hears each field's hint and errors (the input's
aria-describedby names the elements that hold them)."""

import re

from django import forms
from django.template.loader import render_to_string


class Example(forms.Form):
    email = forms.EmailField(label="Correo", help_text="Le enviaremos un enlace.")
    code = forms.CharField(label="Código", max_length=3)


def described(html: str, name: str) -> list[str]:
    """The texts that the input named `name` points to with aria-describedby."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag is not None
    ids = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    if ids is None:
        return []
    texts = []
    for element_id in ids.group(1).split():
        found = re.search(rf'id="{element_id}">([^<]*)<', html)
        assert found is not None, f"aria-describedby names {element_id}, which is not on the page"
        texts.append(found.group(1))
    return texts


def test_the_hint_and_every_error_are_linked_to_their_input():
    form = Example({"email": "no es un correo", "code": "demasiado largo"})
    assert not form.is_valid()
    html = "".join(render_to_string("ui/field.html", {"field": form[name]}) for name in form.fields)
    email = described(html, "email")
    assert email[0] == "Le enviaremos un enlace."
    assert "correo" in email[1].lower()
    assert described(html, "code") == [" ".join(str(e) for e in form.errors["code"])]


def test_a_field_without_hint_or_error_points_nowhere():
    html = render_to_string("ui/field.html", {"field": Example()["code"]})
    assert described(html, "code") == []
