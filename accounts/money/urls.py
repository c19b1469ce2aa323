from django.urls import path

from accounts.money import views

urlpatterns = [
    path("account/<str:number>/activity/", views.activity, name="account-activity"),
    path("account/<str:number>/transfers/", views.transfers, name="account-transfers"),
    path("account/<str:number>/transfers/new", views.request_transfer, name="account-transfer-new"),
    path(
        "account/<str:number>/transfers/<int:transfer_id>/cancel",
        views.cancel_transfer,
        name="account-transfer-cancel",
    ),
    path("account/<str:number>/bank-links/new", views.link_bank, name="account-bank-link-new"),
]
