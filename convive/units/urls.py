"""The field-unit page (``/units/field/``): the crew's unit, its incident, status buttons."""

from django.urls import path

from convive.units import views

app_name = "units"
urlpatterns = [
    path("field/", views.field, name="field"),
    path("field/live/", views.field_live, name="field_live"),
    path("field/<int:unit_id>/progress/", views.progress, name="progress"),
    path("field/<int:unit_id>/status/", views.change_status, name="status"),
]
