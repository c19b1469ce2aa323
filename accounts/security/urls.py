from django.urls import path

from accounts.security import views

urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/tokens/<int:token_id>/revoke", views.revoke_token, name="security-token-revoke"),
    path("security/api-keys/<str:key_id>/revoke", views.revoke_api_key, name="security-key-revoke"),
    path("security/sign-out-everywhere", views.sign_out_everywhere, name="sign-out-everywhere"),
]
