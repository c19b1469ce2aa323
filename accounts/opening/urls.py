from django.urls import path

from accounts.opening import views

urlpatterns = [
    path("applications/new", views.start_application, name="application-start"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/<slug:step>/", views.application_step, name="application-step"),
]
