from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager


class SsoConnection(models.Model):
    """A tenant's identity provider: how its people sign in when single sign-on is on.

    started (the URLs to give the IdP are known) → configured (the IdP's details saved) →
    tested (an admin signed in through it: the sign-in page sends the tenant's addresses there)
    → enforced (password sign-in and reset are off for everyone but the admins). Saving new
    details clears the test; enforcement must be lifted before they can change.

    allauth never sees this row: sso/adapter.py makes an app of it for each sign-in."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    tenant = models.OneToOneField(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="sso_connection"
    )
    protocol = models.CharField(_("protocol"), max_length=8, choices=Protocol.choices)
    # In the URLs the IdP calls back and allauth's provider id (SocialAccount.provider): it
    # never changes, so the subjects already linked stay linked whatever else is edited.
    slug = models.SlugField(max_length=40, unique=True, editable=False)

    # OpenID Connect: discovery from the issuer's /.well-known/openid-configuration.
    issuer = models.URLField(_("issuer URL"), max_length=1024, blank=True)
    client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    # A Fernet token (sso/encryption.py), never the secret itself.
    sealed_client_secret = models.TextField(blank=True)
    # How the secret is shown to the token endpoint (sso/idp.py reads it from discovery).
    token_auth_method = models.CharField(max_length=32, blank=True)

    # SAML: what the IdP's metadata says, read when the admin saves it.
    idp_metadata_url = models.URLField(_("metadata URL"), max_length=1024, blank=True)
    idp_entity_id = models.CharField(max_length=1024, blank=True)
    idp_sso_url = models.URLField(max_length=1024, blank=True)
    idp_certificate = models.TextField(blank=True)

    configured_at = models.DateTimeField(null=True, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The address the IdP answered with at the test: what the admin saw work.
    tested_as = models.EmailField(blank=True)
    enforced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    def __str__(self):
        return f"{self.get_protocol_display()} for {self.tenant}"

    @property
    def is_configured(self) -> bool:
        return self.configured_at is not None

    @property
    def is_tested(self) -> bool:
        return self.tested_at is not None

    @property
    def is_enforced(self) -> bool:
        return self.enforced_at is not None
