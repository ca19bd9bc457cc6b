"""URLs for the intake benchmark: the whole site plus one bare view that inserts one row."""

import json

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from chengguan.urls import urlpatterns as site


@csrf_exempt
def insert_one_row(request):
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (payload, created_at) VALUES (%s, %s)",
                       [json.dumps(body, ensure_ascii=False), timezone.now()])
    if request.method != "POST":
        return HttpResponse(status=405)
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("bench/insert", insert_one_row), *site]
