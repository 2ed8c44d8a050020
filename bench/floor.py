"""The floor: what this stack does for a request that writes one row and nothing else.

A bare Django function view behind the same middleware, gunicorn workers and database as every
other request: parse a tiny JSON body, one upsert in raw SQL (autocommit), a tiny JSON reply.
The runner creates the table (FLOOR_TABLE_SQL) before the server starts.
"""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

FLOOR_TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_floor (k integer PRIMARY KEY, n integer)"
UPSERT_SQL = (
    "INSERT INTO bench_floor (k, n) VALUES (%s, 1) "
    "ON CONFLICT (k) DO UPDATE SET n = bench_floor.n + 1"
)


@csrf_exempt
@require_POST
def floor(request: HttpRequest) -> HttpResponse:
    try:
        key = int(json.loads(request.body)["k"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "k is required"}, status=400)
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, [key])
    return JsonResponse({"saved": True})
