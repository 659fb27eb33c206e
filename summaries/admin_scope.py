"""The admin's tenancy rule: a staff member who is not a superuser sees only their organizations' rows.

Every registered admin is either organization-scoped (OrganizationScopedAdmin, OrganizationScopedInline) or
superuser-only: `seal_admin_site` makes every other registered admin superuser-only once all admin modules
are loaded, so a model added later without a scope leaks nothing.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.http import HttpRequest


def member_organization_ids(user: Any, request: HttpRequest | None = None) -> list[int]:
    """Ids of the organizations a user belongs to (remembered on the request: admin pages ask many times)."""
    from summaries.models import Membership

    cached = getattr(request, "_recap_organization_ids", None)
    if cached is not None:
        return cached
    ids = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    if request is not None:
        request._recap_organization_ids = ids
    return ids


def owned_organization_ids(user: Any) -> list[int]:
    """Ids of the organizations where the user is an owner."""
    from summaries.models import Membership

    return list(Membership.objects.filter(user=user, role=Membership.Role.OWNER)
                .values_list("organization_id", flat=True))


def is_owner(user: Any, organization_id: int | None) -> bool:
    """True for superusers and for owners of that organization."""
    return bool(user.is_superuser or (organization_id is not None and organization_id in owned_organization_ids(user)))


class ScopedAdminMixin(BaseModelAdmin):
    """Rows, foreign-key choices (selects, autocompletes, raw-id checks) and related list filters stop at the
    request user's organizations; superusers see everything."""

    organization_path = "organization"

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The queryset cut to the request user's organizations (untouched for superusers)."""
        if request.user.is_superuser:
            return queryset
        ids = member_organization_ids(request.user, request)
        return queryset.filter(**{f"{self.organization_path}__in": ids})

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Only rows of the user's organizations."""
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Foreign-key choices limited to what the user may see (also what a raw-id value is checked against)."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = limit_choices(request, field.queryset)
        return field

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        """Autocompletes only towards models the user may browse (others become a scoped select)."""
        fields = list(super().get_autocomplete_fields(request))
        if request.user.is_superuser:
            return fields
        return [name for name in fields if _related_path(self.model, name) is not None]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """Related-object filters offer only objects the visible rows point to (never other tenants' names)."""
        from django.contrib.admin.filters import RelatedOnlyFieldListFilter

        out = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and _is_relation(self.model, entry):
                entry = (entry, RelatedOnlyFieldListFilter)
            out.append(entry)
        return out


class OrganizationScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows, foreign-key choices and object pages stop at the user's organizations.

    `organization_path` is the lookup from the model to its Organization ("pk" for Organization itself,
    "organization", "project__organization", "session__project__organization", ...); superusers see everything.
    """


class OrganizationScopedInline(ScopedAdminMixin, admin.TabularInline):
    """An inline whose rows and choices stop at the user's organizations (`organization_path` from its model)."""


class SuperuserOnlyAdmin(BaseModelAdmin):
    """Mixed into an admin of data that belongs to no organization (users, schedules): superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser


def scoped_path(model: type[Model]) -> str | None:
    """The lookup from a model to its Organization when the admin knows one (None: not tenant data)."""
    from summaries.models import Organization

    if model is Organization:
        return "pk"
    registered = admin.site._registry.get(model)
    if isinstance(registered, ScopedAdminMixin):
        return registered.organization_path
    return None


def limit_choices(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """Choices of a related model for a form: scoped when it is tenant data, the user's own organizations'
    members when it is the user model, nothing else for non-superusers."""
    from django.contrib.auth import get_user_model

    if request.user.is_superuser:
        return queryset
    path = scoped_path(queryset.model)
    if path is not None:
        return queryset.filter(**{f"{path}__in": member_organization_ids(request.user, request)})
    if queryset.model is get_user_model():
        ids = member_organization_ids(request.user, request)
        return queryset.filter(memberships__organization_id__in=ids).distinct()
    return queryset.none()


def _is_relation(model: type[Model], path: str) -> bool:
    """True when a list_filter path ends at a related object."""
    from django.contrib.admin.utils import get_fields_from_path

    try:
        return bool(get_fields_from_path(model, path)[-1].is_relation)
    except (FieldDoesNotExist, LookupError):
        return False


def _related_path(model: type[Model], field_name: str) -> str | None:
    """The organization path of the model a field points to, if that model is scoped."""
    try:
        return scoped_path(model._meta.get_field(field_name).related_model)
    except FieldDoesNotExist:
        return None


def seal_admin_site(site: admin.AdminSite | None = None) -> None:
    """Make every registered admin that is not organization-scoped superuser-only (called once all are loaded)."""
    site = site or admin.site
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, (ScopedAdminMixin, SuperuserOnlyAdmin)):
            continue
        sealed = type(f"SuperuserOnly{type(model_admin).__name__}", (SuperuserOnlyAdmin, type(model_admin)), {})
        site.unregister(model)
        site.register(model, sealed)
