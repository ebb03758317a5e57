"""The staff inbox (``/inbox/``): a list, a report, and one URL per action on it."""

from django.urls import path

from convive.reports import inbox_views as views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="list"),
    path("<int:report_id>/", views.detail, name="detail"),
    path("<int:report_id>/reply/", views.reply, name="reply"),
    path("<int:report_id>/note/", views.note, name="note"),
    path("<int:report_id>/status/", views.change_status, name="status"),
    path("<int:report_id>/assign/", views.assign, name="assign"),
    path("<int:report_id>/reroute/", views.reroute, name="reroute"),
    path("<int:report_id>/hide/", views.hide, name="hide"),
    path("<int:report_id>/show/", views.show, name="show"),
    path("<int:report_id>/restrict/", views.restrict, name="restrict"),
    path("<int:report_id>/photos/<int:photo_id>/", views.photo, name="photo"),
]
