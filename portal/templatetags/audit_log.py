from django import template

from portal.audit_log import describe
from tenancy.models import AuditEvent

register = template.Library()


@register.filter
def audit_sentence(event: AuditEvent) -> str:
    """`{{ event|audit_sentence }}`: the audit event as a sentence (portal.audit_log)."""
    return describe(event)
