"""Fast seeding for the benchmarks: one tenant of N verified members with personal settings,
written by INSERT ... SELECT over generate_series (no ORM save per row)."""

import tempfile
from pathlib import Path

from django.db import connection
from django.utils import timezone


def seed_tenant(domain, members):
    """Creates `domain` with `members` verified members (the first is the would-be buyer) whose
    meeting settings are partly customised; returns the buyer's user id."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenancy_tenant (domain, state, signup_mode, created_at) "
            "VALUES (%s, 'unmanaged', 'licence_if_free', %s) RETURNING id",
            [domain, now],
        )
        tenant_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO tenancy_tenantdomain (tenant_id, domain, is_primary, status, token,"
            " added_at, servers_seen, check_failures, last_outcome)"
            " VALUES (%s, %s, true, 'unverified', '', %s, '[]'::jsonb, 0, '')",
            [tenant_id, domain, now],
        )
        cursor.execute(
            "INSERT INTO tenancy_user (password, last_login, is_superuser, is_staff, is_active,"
            " date_joined, email, name) SELECT '!', %s - (g || ' minutes')::interval, false,"
            " false, true, %s, 'user' || g || '@' || %s, 'User ' || lpad(g::text, 6, '0')"
            " FROM generate_series(1, %s) g",
            [now, now, domain, members],
        )
        cursor.execute(
            'INSERT INTO account_emailaddress (user_id, email, verified, "primary")'
            " SELECT id, email, true, true FROM tenancy_user WHERE email LIKE %s",
            ["%@" + domain],
        )
        cursor.execute(
            "INSERT INTO tenancy_membership (user_id, tenant_id, role, joined_at)"
            " SELECT id, %s, 'member', %s FROM tenancy_user WHERE email LIKE %s",
            [tenant_id, now, "%@" + domain],
        )
        # Every third member customised their default duration and time zone.
        cursor.execute(
            "INSERT INTO meetings_meetingsettings (user_id, default_duration_minutes,"
            " lobby_bypass, anonymous_join_allowed, announce_join_leave, recording_allowed,"
            " time_zone, language, personal_room_token, customised)"
            " SELECT id, CASE WHEN id %% 3 = 0 THEN 45 ELSE 30 END, 'organisation', true,"
            " false, true, CASE WHEN id %% 3 = 0 THEN 'Europe/Paris' ELSE 'UTC' END, 'en',"
            " md5(random()::text || id::text) || md5(id::text),"
            " CASE WHEN id %% 3 = 0"
            " THEN '[\"default_duration_minutes\", \"time_zone\"]'::jsonb ELSE '[]'::jsonb END"
            " FROM tenancy_user WHERE email LIKE %s",
            ["%@" + domain],
        )
        # The planner's statistics, as autovacuum would have them on a live database.
        cursor.execute(
            "ANALYZE tenancy_user, tenancy_membership, account_emailaddress,"
            " meetings_meetingsettings"
        )
        cursor.execute("SELECT id FROM tenancy_user WHERE email = %s", ["user1@" + domain])
        return cursor.fetchone()[0]


def give_authenticator_app(users):
    """Admins open the admin centre only with a second factor (portal.access.admin_required):
    an authenticator app each, in one INSERT."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import generate_totp_secret
    from allauth.mfa.utils import encrypt

    Authenticator.objects.bulk_create(
        [
            Authenticator(
                user=user,
                type=Authenticator.Type.TOTP,
                data={"secret": encrypt(generate_totp_secret())},
            )
            for user in users
        ],
        ignore_conflicts=True,
    )


def serve_claim_records(claims):
    """A flat DNS server (domains.devdns) publishing each claim's record, made this process's
    resolver: the purchase looks for the record again. Returns the server, to stop after."""
    from django.conf import settings

    from domains.devdns import DevDNSServer, add_txt

    records = Path(tempfile.mkdtemp()) / "records.json"
    for claim in claims:
        add_txt(records, claim.record_name, claim.record_value)
    server = DevDNSServer(records).start()
    settings.DNS_NAMESERVERS = [server.address]
    return server
