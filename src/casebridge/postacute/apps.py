from django.apps import AppConfig


class PostacuteConfig(AppConfig):
    name = "casebridge.postacute"
    verbose_name = "Post-acute providers and referrals"
