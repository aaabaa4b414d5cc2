from django.urls import path

from bench import views
from bench.io import io

urlpatterns = [
    path("healthz", views.healthz),
    path("plaintext", views.plaintext),
    path("json", views.json_view),
    path("db", views.single_query),
    path("queries", views.multiple_queries),
    path("updates", views.updates),
    path("fortunes", views.fortunes),
    path("io", io),
    path("compute", views.compute),
    path("users", views.create_user),
]
