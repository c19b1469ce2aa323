"""Staff forms for users."""

# --- The account application wizard -----------------------------------------------------
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

# --- Funding ---------------------------------------------------------------------------------
from accounts.users.models import User


class StaffUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class StaffUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
