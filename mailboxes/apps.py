from django.apps import AppConfig


class MailboxConfig(AppConfig):
    # The package is "mailboxes" because "mailbox" is a standard-library module; the label
    # (templates, URL namespace, table names) stays "mailbox".
    name = "mailboxes"
    label = "mailbox"
    verbose_name = "Casilla electrónica"
