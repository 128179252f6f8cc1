from typing import Any

from django.conf import settings
from django.http import HttpRequest


def agency(request: HttpRequest) -> dict[str, Any]:
    return {"agency": settings.AGENCY}
