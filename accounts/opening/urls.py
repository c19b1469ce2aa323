from django.urls import path

from accounts.opening import views

urlpatterns = [
    path("applications/new", views.start_application, name="application-start"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path(
        "applications/<int:pk>/withdraw",
        views.withdraw_application,
        name="application-withdraw",
    ),
    path("applications/<int:pk>/<slug:step>/", views.application_step, name="application-step"),
    path("agreements/<slug:agreement>/", views.agreement_page, name="agreement"),
    path(
        "agreements/<slug:agreement>/<str:version>/",
        views.agreement_page,
        name="agreement-version",
    ),
]
