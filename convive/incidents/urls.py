"""The command centre's pages (``/console/``): the console, a call, an incident and its actions."""

from django.urls import path

from convive.incidents import views

app_name = "console"
urlpatterns = [
    path("", views.console, name="index"),
    path("queue.json", views.queue_json, name="queue"),
    path("call/", views.call, name="call"),
    path("call/duplicates.json", views.duplicates_json, name="duplicates"),
    path("call/places.json", views.places_json, name="places"),
    path("incidents/<int:incident_id>/", views.detail, name="detail"),
    path("incidents/<int:incident_id>/live/", views.detail_live, name="detail_live"),
    path("incidents/<int:incident_id>/priority/", views.change_priority, name="priority"),
    path("incidents/<int:incident_id>/note/", views.note, name="note"),
    path("incidents/<int:incident_id>/transfer/", views.transfer, name="transfer"),
    path("incidents/<int:incident_id>/close/", views.close, name="close"),
    path("incidents/<int:incident_id>/reopen/", views.reopen, name="reopen"),
    path("incidents/<int:incident_id>/link/", views.link, name="link"),
    path("incidents/<int:incident_id>/referral/", views.referral, name="referral"),
    path("incidents/<int:incident_id>/dispatch/", views.dispatch, name="dispatch"),
]
