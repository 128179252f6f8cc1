"""`events_recorded`: sent by record_many() inside the caller's transaction, with the entries
just appended (`events`, a list of evidence.models.Event). A receiver that writes rows writes
them in the same transaction (the API's webhook outbox does)."""

from django.dispatch import Signal

events_recorded = Signal()
