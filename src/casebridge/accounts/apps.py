from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casebridge.accounts"
    verbose_name = "Organizations and users"
