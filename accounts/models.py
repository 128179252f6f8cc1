from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Anyone who logs in: a person (administrado) to the buzón, or an officer to /oficina/.

    A person's username is their document type and number ("DNI-45678912"); their identity
    data lives on people.Person. Each kind can log in only through its own door.
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Administrado")
        OFFICER = "officer", _("Servidor")

    # Officer by default: createsuperuser and the admin create officers; persons are created
    # only by accounts.actions.issue_credentials().
    kind = models.CharField(
        _("tipo de usuario"), max_length=10, choices=Kind.choices, default=Kind.OFFICER
    )

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        permissions = [("reissue_credentials", _("Puede reemitir credenciales del buzón"))]

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    @property
    def is_officer(self) -> bool:
        return self.kind == self.Kind.OFFICER
