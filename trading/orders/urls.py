from django.urls import path

from trading.orders import views

urlpatterns = [
    path("account/<str:number>/trade/", views.order_ticket, name="account-trade"),
    path("account/<str:number>/orders/", views.order_list, name="account-orders"),
    path("account/<str:number>/orders/<int:order_id>/", views.order_detail, name="account-order"),
    path(
        "account/<str:number>/orders/<int:order_id>/cancel",
        views.cancel,
        name="account-order-cancel",
    ),
    path(
        "account/<str:number>/orders/<int:order_id>/replace",
        views.replace,
        name="account-order-replace",
    ),
]
