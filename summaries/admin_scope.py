"""The admin's tenancy rule: a staff member who is not a superuser sees only their organizations' rows."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest


def member_organization_ids(user: Any) -> list[int]:
    """Ids of the organizations a user belongs to."""
    from summaries.models import Membership

    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


class OrganizationScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows, foreign-key choices and object pages stop at the user's organizations.

    `organization_path` is the lookup from the model to its Organization ("pk" for Organization itself,
    "organization", "project__organization", "session__project__organization", ...); superusers see everything.
    """

    organization_path = "organization"

    def scope(self, request: HttpRequest, queryset: QuerySet, path: str | None = None) -> QuerySet:
        """The queryset cut to the request user's organizations (untouched for superusers)."""
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{path or self.organization_path}__in": member_organization_ids(request.user)})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Only rows of the user's organizations."""
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Foreign-key choices limited to the user's organizations where the target model is scoped."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        path = scoped_path(db_field.related_model)
        if field is not None and path is not None and hasattr(field, "queryset"):
            field.queryset = self.scope(request, field.queryset, path)
        return field


def scoped_path(model: type[Model]) -> str | None:
    """The lookup from a model to its Organization when the admin knows one (None: not tenant data)."""
    from summaries.models import Organization

    if model is Organization:
        return "pk"
    registered = admin.site._registry.get(model)
    if isinstance(registered, OrganizationScopedAdmin):
        return registered.organization_path
    return None
