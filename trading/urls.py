from django.urls import path

from . import views

urlpatterns = [
    path("quotes/<str:symbol>", views.quote_box, name="quote"),
]
