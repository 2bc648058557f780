"""The page a notification links to: ``/inbox/<id>``.

Anonymous visitors are sent to sign in first (``/login?next=/inbox/<id>``); signed-in users get the
app, which shows the item. A GET never claims or decides anything: there is no token in the link.
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect

from backend.common.views import spa_index


def inbox_item_page(request: HttpRequest, approval_id: int) -> HttpResponse | FileResponse:
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/login?next={quote(f'/inbox/{approval_id}', safe='/')}")
    return spa_index(request)
