"""Sign-in (throttled), sign-out, organization switch, and the organization admin pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casebridge.accounts import services
from casebridge.accounts.middleware import ACTIVE_ORG_SESSION_KEY, client_ip
from casebridge.accounts.models import CredentialKind, Organization
from casebridge.accounts.permissions import require
from casebridge.accounts.roles import ALL_DISCIPLINES, ROLE_CHOICES
from casebridge.accounts.selectors import actor_for, organization_user_get, organization_users
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from casebridge.kernel.numbers import whole_number
from casebridge.web.errors import actor_required, apply_errors


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins for this account. Wait 15 minutes and try again.",
    }

    def clean(self):  # type: ignore[no-untyped-def]
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else None
        if username and services.login_is_throttled(username=username, client_ip=ip):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                services.login_failure_record(username=username, client_ip=ip)
            raise
        services.login_failures_clear(username=username)
        return cleaned


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_POST
@actor_required
def switch_organization(request: HttpRequest) -> HttpResponse:
    org_id = whole_number(request.POST.get("organization_id", ""))
    if org_id is None or actor_for(request.user, organization_id=org_id) is None:  # type: ignore[arg-type]
        messages.error(request, "You have no role in that organization.")
    else:
        request.session[ACTIVE_ORG_SESSION_KEY] = org_id
    return redirect("worklist")


class OrganizationForm(forms.ModelForm):
    zip_codes_text = forms.CharField(
        label="ZIP codes served",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="5-digit ZIP codes separated by spaces or commas",
    )

    class Meta:
        model = Organization
        fields = ["name", "npi", "payer_id", "address_line", "city", "state", "postal_code", "phone"]


@actor_required
def admin_organization(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "organization.manage")
    org = actor.organization
    if request.method == "POST":
        form = OrganizationForm(request.POST, instance=Organization.objects.get(pk=org.pk))
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in OrganizationForm.Meta.fields}
            data["zip_codes_served"] = form.cleaned_data["zip_codes_text"].replace(",", " ").split()
            try:
                services.organization_update(actor=actor, **data)
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Organization saved.")
                return redirect("admin_organization")
    else:
        form = OrganizationForm(instance=org, initial={"zip_codes_text": " ".join(org.zip_codes_served)})
    return render(request, "accounts/organization.html", {"form": form, "org": org})


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    discipline = forms.ChoiceField(choices=[("", "—")] + sorted(ALL_DISCIPLINES.items()), required=False)
    password = forms.CharField(widget=forms.PasswordInput, help_text="At least 10 characters, not a common password")


@actor_required
def admin_users(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "user.manage")
    if request.method == "POST":
        form = UserCreateForm(request.POST)
        if form.is_valid():
            try:
                services.user_create(actor=actor, organization=actor.organization, **form.cleaned_data)
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"User {form.cleaned_data['username']} created.")
                return redirect("admin_users")
    else:
        form = UserCreateForm()
    users = organization_users(actor=actor).prefetch_related("memberships", "credentials")
    rows = [
        (u, [m for m in u.memberships.all() if m.organization_id == actor.organization_id and m.active]) for u in users
    ]
    return render(request, "accounts/users.html", {"form": form, "rows": rows})


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    discipline = forms.ChoiceField(choices=[("", "—")] + sorted(ALL_DISCIPLINES.items()), required=False)


class CredentialForm(forms.Form):
    kind = forms.ChoiceField(choices=CredentialKind.choices)
    number = forms.CharField(max_length=64)
    state = forms.CharField(max_length=2, required=False, help_text="Issuing state, for licenses")
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


@actor_required
def admin_user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "user.manage")
    user = organization_user_get(actor=actor, user_id=user_id)
    role_form = RoleGrantForm(prefix="role")
    credential_form = CredentialForm(prefix="cred")
    if request.method == "POST" and "revoke" in request.POST:
        membership_id = whole_number(request.POST["revoke"])
        if membership_id is None:
            raise NotFound("No such role in your organization.")
        try:
            services.membership_revoke(actor=actor, membership_id=membership_id)
        except ValidationFailed as exc:  # e.g. an admin removing their own admin role
            messages.error(request, f"The role was kept: {exc.detail}")
        else:
            messages.success(request, "Role removed.")
        return redirect("admin_user_detail", user_id=user.pk)
    if request.method == "POST":
        try:
            if "role-role" in request.POST:
                role_form = RoleGrantForm(request.POST, prefix="role")
                if role_form.is_valid():
                    services.membership_grant(
                        actor=actor, user=user, organization=actor.organization, **role_form.cleaned_data
                    )
                    messages.success(request, "Role granted.")
                    return redirect("admin_user_detail", user_id=user.pk)
            else:
                credential_form = CredentialForm(request.POST, prefix="cred")
                if credential_form.is_valid():
                    services.credential_add(actor=actor, user=user, **credential_form.cleaned_data)
                    messages.success(request, "Credential added.")
                    return redirect("admin_user_detail", user_id=user.pk)
        except (DomainError, ValueError) as exc:
            target = role_form if "role-role" in request.POST else credential_form
            if isinstance(exc, DomainError):
                apply_errors(target, exc)
            else:
                messages.error(request, "Unknown role.")
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": user,
            "memberships": user.memberships.filter(organization=actor.organization, active=True),
            "credentials": user.credentials.all(),
            "role_form": role_form,
            "credential_form": credential_form,
            "today": clock.today(),
        },
    )


class OrganizationCreateForm(OrganizationForm):
    class Meta(OrganizationForm.Meta):
        fields = ["name", "org_type", *OrganizationForm.Meta.fields[1:]]


@actor_required
def platform_organizations(request: HttpRequest) -> HttpResponse:
    """Platform administrators (superusers) register organizations."""
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.user.is_superuser:
        raise PermissionDenied("Only platform administrators manage organizations.")
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in OrganizationCreateForm.Meta.fields}
        data["zip_codes_served"] = form.cleaned_data["zip_codes_text"].replace(",", " ").split()
        try:
            org = services.organization_create(actor=actor, **data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{org.name} registered.")
            return redirect("platform_organizations")
    return render(
        request, "accounts/organizations.html", {"form": form, "organizations": Organization.objects.order_by("name")}
    )
