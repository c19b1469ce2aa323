from django.urls import path

from accounts.profile import views

urlpatterns = [
    path("profile/", views.profile_page, name="profile"),
    path("profile/<str:section>", views.change, name="profile-change"),
    path(
        "profile/changes/<int:change_id>/withdraw",
        views.withdraw,
        name="profile-change-withdraw",
    ),
]
