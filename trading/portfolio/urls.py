from django.urls import path

from trading.portfolio import views

urlpatterns = [
    path("portfolio/", views.combined, name="portfolio-combined"),
    path("account/<str:number>/", views.account_overview, name="account-overview"),
    path("account/<str:number>/portfolio", views.portfolio_partial, name="account-portfolio"),
]
