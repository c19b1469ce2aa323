from django.urls import path

from accounts.api_keys import views

urlpatterns = [
    path("account/<str:number>/api-keys/", views.api_key_list, name="account-api-keys"),
    path(
        "account/<str:number>/api-keys/<str:key_id>/revoke",
        views.api_key_revoke,
        name="account-api-key-revoke",
    ),
]
