"""The authentication backend: a request's user and every permission they hold, in one query.

Django's ``ModelBackend`` loads the user for each request, then its own permissions and its groups'
permissions in two more queries the first time a page asks ``has_perm`` (every portal page does, for
the navigation). Here the permissions come with the user as one aggregated column, so each request
still reads them fresh from the database (a role change takes effect on the next request, on every app
server) and nothing is cached between requests. Compiling that query costs more than running it, so its
SQL is compiled once per process and database.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Aggregate, CharField, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Concat

#: A primary key no user has: it marks where the requested one goes among the compiled query's parameters.
_PLACEHOLDER_PK = -918_273_645


class _Joined(Aggregate):
    """The aggregated values as one space-separated string: ``string_agg`` (PostgreSQL), ``group_concat`` (SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _permission_names() -> Subquery:
    """``app_label.codename`` of every permission the outer user holds, directly or through a group."""
    user = OuterRef(OuterRef("pk"))
    direct = get_user_model().user_permissions.through.objects.filter(user_id=user).values("permission_id")
    through_groups = Group.permissions.through.objects.filter(group__user=user).values("permission_id")
    names = (
        Permission.objects.filter(Q(pk__in=direct) | Q(pk__in=through_groups))
        .order_by()
        .annotate(one=Value(1))
        .values("one")  # a constant: no GROUP BY, one row for all the user's permissions
        .annotate(names=_Joined(Concat("content_type__app_label", Value("."), "codename", output_field=CharField())))
        .values("names")
    )
    return Subquery(names, output_field=TextField())


@functools.cache
def _user_query(alias: str) -> tuple[str, tuple[Any, ...], int]:
    """The SQL and parameters of the user-with-permissions query on ``alias``, and where the user's pk goes."""
    users = get_user_model()._default_manager.db_manager(alias).annotate(permission_names=_permission_names())
    sql, params = users.filter(pk=_PLACEHOLDER_PK).query.sql_with_params()
    return sql, tuple(params), params.index(_PLACEHOLDER_PK)


class PermissionsWithUserBackend(ModelBackend):
    """``ModelBackend`` whose ``get_user`` also fills the permission cache ``has_perm`` reads."""

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(user_model)
        sql, params, position = _user_query(alias)
        arguments = (*params[:position], pk, *params[position + 1 :])
        user = next(iter(user_model._default_manager.db_manager(alias).raw(sql, arguments)), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser holds every permission: ModelBackend lists them when asked
            user._perm_cache = set((user.permission_names or "").split())
        return user
