"""The views both Django contestants share (contestants/_shared/django); /io lives in each
contestant's own bench/io.py: a thread wait under WSGI, an async sleep under ASGI."""

import json
import math
import random
import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bench.models import Fortune, World

INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_int(raw: str | None) -> int | None:
    if raw is None or not INTEGER.fullmatch(raw):
        return None
    return int(raw)


def clamp_count(raw: str | None, upper: int) -> int:
    n = parse_int(raw)
    if n is None:
        return 1
    return min(max(n, 1), upper)


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def random_id() -> int:
    return random.randint(1, 10000)


def serialize(world: World) -> dict:
    return {"id": world.id, "randomNumber": world.random_number}


# --- plain endpoints ---------------------------------------------------------------------------


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@require_GET
def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain; charset=utf-8")


@require_GET
def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


# --- database endpoints ------------------------------------------------------------------------


@require_GET
def single_query(request):
    return JsonResponse(serialize(World.objects.get(id=random_id())))


@require_GET
def multiple_queries(request):
    count = clamp_count(request.GET.get("n"), 500)
    worlds = [serialize(World.objects.get(id=random_id())) for _ in range(count)]
    return JsonResponse(worlds, safe=False)


@require_GET
def updates(request):
    count = clamp_count(request.GET.get("n"), 500)
    # Ids are drawn independently (repeats allowed); rows are written in ascending id order in
    # one transaction, as the contract fixes for every contestant.
    worlds = [World.objects.get(id=random_id()) for _ in range(count)]
    for world in worlds:
        world.random_number = random_id()
    with transaction.atomic():
        for world in sorted(worlds, key=lambda w: w.id):
            world.save(update_fields=["random_number"])
    return JsonResponse([serialize(world) for world in worlds], safe=False)


@require_GET
def fortunes(request):
    items = list(Fortune.objects.all())
    items.append(Fortune(id=0, message="Additional fortune added at request time."))
    items.sort(key=lambda fortune: fortune.message)
    return render(request, "bench/fortunes.html", {"fortunes": items})


# --- compute ----------------------------------------------------------------------------


@require_GET
def compute(request):
    count = clamp_count(request.GET.get("n"), 1_000_000)
    xs = [((i * 7919) % 10007) / 10007 for i in range(count)]
    total = math.fsum(xs)
    mean = total / count
    variance = math.fsum((x - mean) ** 2 for x in xs) / count
    return JsonResponse(
        {"n": count, "sum": total, "mean": mean, "std": math.sqrt(variance), "min": min(xs), "max": max(xs)}
    )


# --- users -------------------------------------------------------------------------------------


def validate_user(data) -> str | None:
    """The first problem with a POST /users payload, or None if it is valid."""
    if not isinstance(data, dict):
        return "body must be a JSON object"
    name, email, age = data.get("name"), data.get("email"), data.get("age")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        return "name must be a string of 1 to 64 characters"
    if (
        not isinstance(email, str)
        or len(email) > 254
        or email.count("@") != 1
        or email.startswith("@")
        or email.endswith("@")
    ):
        return "email must be a string of at most 254 characters with one '@' inside it"
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 150:
        return "age must be an integer from 0 to 150"
    return None


# A token-less JSON API for non-browser clients: there is no session cookie to protect, so the
# CSRF check (which wants a token from a form or cookie) does not apply to this view.
@csrf_exempt
@require_POST
def create_user(request):
    if request.content_type.lower() != "application/json":
        return error(415, "Content-Type must be application/json")
    try:
        body = request.body  # RequestDataTooBig past DATA_UPLOAD_MAX_MEMORY_SIZE (Content-Length)
    except RequestDataTooBig:
        return error(413, "body larger than 1 MiB")
    if len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # a chunked body has no Content-Length
        return error(413, "body larger than 1 MiB")
    try:
        data = json.loads(body)
    except ValueError:
        return error(400, "malformed JSON")
    problem = validate_user(data)
    if problem:
        return error(400, problem)
    user = {"id": str(uuid.uuid4()), "name": data["name"], "email": data["email"], "age": data["age"]}
    return JsonResponse(user, status=201)
