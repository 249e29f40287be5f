from .models import Membership


def membership_of(user):
    """The user's membership with its tenant, or None (anonymous, unverified, consumer domain)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("tenant").filter(user=user).first()
