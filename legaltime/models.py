from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NonWorkingDay(models.Model):
    """A day the government declared non-working by decree, on top of the public holidays.

    Such days are not business days (TUO de la Ley N.° 27444, arts. 18 and 145), so they move
    the date a notification takes effect and every deadline that crosses them.
    """

    date = models.DateField(_("fecha"), unique=True)
    description = models.CharField(_("descripción"), max_length=200)
    legal_basis = models.CharField(
        _("base legal"),
        max_length=200,
        help_text=_("Norma que lo declara, p. ej. «Decreto Supremo N.° 012-2026-PCM»."),
    )
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("día no laborable")
        verbose_name_plural = _("días no laborables")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} · {self.description}"
