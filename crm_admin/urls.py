from django.urls import path

from crm_admin import views

app_name = "crm_admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("business-apps/crm-admin/", views.crm_admin_shortcut, name="shortcut"),
    path("accounts/<slug:slug>/crm-admin/", views.crm_admin_page, name="page"),
    path("accounts/<slug:slug>/crm-admin/salesforce/link/", views.link_start, name="link_start"),
    path("accounts/<slug:slug>/crm-admin/salesforce/unlink/", views.unlink, name="unlink"),
    path(
        "accounts/<slug:slug>/crm-admin/salesforce/attempts/status/",
        views.attempt_status,
        name="attempt_status",
    ),
    path(
        "accounts/<slug:slug>/crm-admin/salesforce/attempts/abandon/",
        views.attempt_abandon,
        name="attempt_abandon",
    ),
    path(
        "accounts/<slug:slug>/crm-admin/salesforce/attempts/<uuid:attempt_id>/",
        views.attempt_done,
        name="attempt_done",
    ),
    path("crm-admin/salesforce/callback/", views.salesforce_callback, name="salesforce_callback"),
]
