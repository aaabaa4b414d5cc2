"""/io under WSGI: the wait holds this gunicorn thread only; the others keep serving."""

import time

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from bench.views import error, parse_int


@require_GET
def io(request):
    delay = parse_int(request.GET.get("ms"))
    if delay is None or not 0 <= delay <= 10000:
        return error(400, "ms must be an integer in 0..=10000")
    time.sleep(delay / 1000)
    return JsonResponse({"slept_ms": delay})
