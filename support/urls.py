from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("links/", views.links, name="links"),
    path("links/export.csv", views.links_export, name="links_export"),
    path("accounts/<slug:slug>/", views.account, name="account"),
    path("api-users/<str:org_id>/<str:user_id>/", views.api_user, name="api_user"),
]
