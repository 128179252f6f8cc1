"""Credential requests received by email ("Solicitud de credenciales"), parsed without a database.

parser.parse() turns the raw bytes of one message into a ParsedRequest; the next step opens a
case from it. Not a Django app: it has no models.
"""
