"""Access rules specific to payments."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission


class IsAccountOrService(BasePermission):
    message = "You must be logged in."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        identity = info.context.identity
        return bool(identity.is_authenticated or identity.is_service)
