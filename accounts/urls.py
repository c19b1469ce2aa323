from django.urls import path

from . import api_key_views, money_views, views

urlpatterns = [
    path("applications/new", views.start_application, name="application-start"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/<slug:step>/", views.application_step, name="application-step"),
    path("account/<str:number>/activity/", money_views.activity, name="account-activity"),
    path("account/<str:number>/transfers/", money_views.transfers, name="account-transfers"),
    path(
        "account/<str:number>/transfers/new",
        money_views.request_transfer,
        name="account-transfer-new",
    ),
    path(
        "account/<str:number>/transfers/<int:transfer_id>/cancel",
        money_views.cancel_transfer,
        name="account-transfer-cancel",
    ),
    path("account/<str:number>/api-keys/", api_key_views.api_key_list, name="account-api-keys"),
    path(
        "account/<str:number>/api-keys/<str:key_id>/revoke",
        api_key_views.api_key_revoke,
        name="account-api-key-revoke",
    ),
    path(
        "account/<str:number>/bank-links/new", money_views.link_bank, name="account-bank-link-new"
    ),
]
