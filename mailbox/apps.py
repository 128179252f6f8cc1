from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "mailbox"
    verbose_name = "Casilla electrónica"
