"""The baseline: the least a logged-in Django page can cost on this stack.

``login_required`` (the session and the user), the portal's whole middleware stack, and a trivial
template rendered without the portal's context processors, which are part of what portal pages pay.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template


@login_required
def baseline(request: HttpRequest) -> HttpResponse:
    """Render a trivial template for the logged-in user."""
    return HttpResponse(get_template("bench/baseline.html").render({"username": request.user.get_username()}))
