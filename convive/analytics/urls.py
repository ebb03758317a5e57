from django.urls import path

from convive.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.kpis, name="kpis"),
    path("export.csv", views.export_csv, name="export_csv"),
]
