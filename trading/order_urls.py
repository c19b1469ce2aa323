from django.urls import path

from . import document_views, order_views, portfolio_views

urlpatterns = [
    path("portfolio/", portfolio_views.combined, name="portfolio-combined"),
    path("account/<str:number>/documents/", document_views.document_list, name="account-documents"),
    path(
        "account/<str:number>/confirmations/<int:execution_id>.pdf",
        document_views.confirmation,
        name="account-confirmation",
    ),
    path(
        "account/<str:number>/statements/<int:year>-<int:month>.pdf",
        document_views.statement,
        name="account-statement",
    ),
    path("account/<str:number>/", portfolio_views.account_overview, name="account-overview"),
    path(
        "account/<str:number>/portfolio",
        portfolio_views.portfolio_partial,
        name="account-portfolio",
    ),
    path("account/<str:number>/trade/", order_views.order_ticket, name="account-trade"),
    path("account/<str:number>/orders/", order_views.order_list, name="account-orders"),
    path(
        "account/<str:number>/orders/<int:order_id>/",
        order_views.order_detail,
        name="account-order",
    ),
    path(
        "account/<str:number>/orders/<int:order_id>/cancel",
        order_views.cancel,
        name="account-order-cancel",
    ),
    path(
        "account/<str:number>/orders/<int:order_id>/replace",
        order_views.replace,
        name="account-order-replace",
    ),
]
