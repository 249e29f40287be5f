"""SCIM 2.0 (RFC 7643/7644) for provisioning. scim2-server speaks the protocol with the schemas,
filters and PATCH of scim2-models; this module tells it where Quorum keeps users (a
`ScimStorage` calling the provisioning services and selectors), how a filter becomes a database
query, and which identity-provider quirks are read as the standard says."""

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    InvalidFilterException,
    InvalidValueException,
    NotFoundException,
    Patch,
    PatchOp,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    UniquenessException,
    User,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage

from core.errors import QuorumError

from .exceptions import AddressTakenError
from .models import ProvisionedEmail, ProvisionedUser, ProvisioningToken
from .selectors import provisioned_user, provisioned_users
from .services.users import (
    Email,
    Profile,
    deprovision_user,
    provision_user,
    update_provisioned_user,
)

UserResource = User[EnterpriseUser]
CORE_USER_SCHEMA = str(User.__schema__)
MAX_RESULTS = 200
# A user resource is a few kilobytes; anything much larger is a mistake or an attack.
MAX_BODY_BYTES = 64 * 1024
# Attributes kept in Quorum's own columns, or never kept: everything else of a resource is kept
# as sent (`active` too, to know whether the identity provider set it; its value is the
# account's). A password is never taken from an identity provider: people choose their own.
OWN_ATTRIBUTES = {"schemas", "id", "meta", "userName", "externalId", "password", "groups"}

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser],
    # Users only: Quorum has no groups (its one distinction, admin or member, is not the
    # identity provider's to grant), so /Groups is not announced and answers 404.
    resource_types=[ResourceType.from_resource(UserResource)],
    config=ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Provisioning token",
                description="The token made in Quorum's admin centre, as a Bearer token.",
                primary=True,
            )
        ],
    ),
)


class QuorumScimService(ScimService):
    """scim2-server's protocol, reading Microsoft Entra's older PATCH form as the standard one
    and answering every PATCH with the resource (Okta reads the user back from the answer)."""

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> "PatchOp[Any]":
        return super().read_patch(resource_type, _split_filtered_keys(body), content_type)

    def _publish_references(self, base_url: str, resource: Resource[Any]) -> None:
        # scim2-server resolves every reference path of the model anew on each publication, which
        # cost as much as validating the request. A User served here holds a reference only as
        # its manager's: its groups are never kept (OWN_ATTRIBUTES).
        enterprise = getattr(resource, EnterpriseUser.__name__, None)
        if enterprise is not None and enterprise.manager is not None:
            super()._publish_references(base_url, resource)

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        return self.resource_response(
            self.publish(base_url, resource),
            Context.RESOURCE_REPLACEMENT_RESPONSE,
            response_parameters,
        )


SERVICE = QuorumScimService(PROVIDER)


def _split_filtered_keys(body: bytes) -> bytes:
    """Entra's provisioning jobs made before 2020 send `{"op": "Add", "value": {"emails[type eq
    \\"work\\"].value": "..."}}`: a path with a filter as a key of a value, which RFC 7644 does
    not allow. Each such key becomes an operation of its own with that path; the rest of the
    document is untouched and still validated by scim2-models."""
    try:
        document = json.loads(body)
    except ValueError:
        return body  # scim2-models says what is wrong with it
    operations = document.get("Operations") if isinstance(document, dict) else None
    if not isinstance(operations, list):
        return body
    split: list[Any] = []
    for operation in operations:
        value = operation.get("value") if isinstance(operation, dict) else None
        if _has_no_path(operation) and isinstance(value, dict):
            filtered = {key: item for key, item in value.items() if "[" in key}
            if filtered:
                rest = {key: item for key, item in value.items() if "[" not in key}
                if rest:
                    split.append({**operation, "value": rest})
                split.extend(
                    {"op": operation.get("op"), "path": key, "value": item}
                    for key, item in filtered.items()
                )
                continue
        split.append(operation)
    return json.dumps({**document, "Operations": split}).encode()


def _has_no_path(operation: Any) -> bool:
    return isinstance(operation, dict) and not operation.get("path")


class ProvisionedUsers(ScimStorage):
    """The SCIM Users of one token's tenant: its provisioned members."""

    def __init__(self, token: ProvisioningToken):
        self.token = token

    def operation(self) -> AbstractContextManager[None]:
        # A PATCH reads, applies and writes: one transaction, so a failure changes nothing.
        return transaction.atomic()

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return resource_of(self._row(resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        condition = _Condition().visit(search_request.filter.ast) if search_request.filter else None
        rows = provisioned_users(self.token.tenant, condition)
        start = max(search_request.start_index or 1, 1) - 1
        count = MAX_RESULTS if search_request.count is None else search_request.count
        page = list(rows[start : start + count]) if count > 0 else []
        # The total costs a count only when the page may not hold every match.
        total = start + len(page) if start == 0 and len(page) < count else rows.count()
        return SearchPage(total=total, resources=[resource_of(row) for row in page])

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        with _as_scim_errors():
            row = provision_user(token=self.token, profile=profile_of(resource))
        return resource_of(row)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(str(resource.id))
        with _as_scim_errors():
            row = update_provisioned_user(
                token=self.token, resource=row, profile=profile_of(resource)
            )
        return resource_of(row)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        row = self._row(resource_id)
        with _as_scim_errors():
            deprovision_user(token=self.token, resource=row)

    def _row(self, resource_id: str) -> ProvisionedUser:
        row = provisioned_user(self.token.tenant, scim_id=resource_id)
        if row is None:
            raise NotFoundException(detail=_("No user %(id)s here.") % {"id": resource_id})
        return row


@contextmanager
def _as_scim_errors() -> Iterator[None]:
    """A rule of ours refused the change: the SCIM error with its message, nothing changed."""
    try:
        yield
    except AddressTakenError as error:
        raise UniquenessException(detail=str(error.message)) from error
    except IntegrityError as error:  # the same person sent twice at once: one of them won
        raise UniquenessException(detail=_("This user already exists.")) from error
    except QuorumError as error:
        raise InvalidValueException(detail=str(error.message)) from error


def resource_of(row: ProvisionedUser) -> Resource[Any]:
    """The SCIM User of a provisioned member, as the identity provider wrote it."""
    user = row.user
    document: dict[str, Any] = {
        **row.attributes,
        "schemas": [CORE_USER_SCHEMA],
        "id": str(row.scim_id),
        "userName": user.email,
        "meta": {
            "resourceType": "User",
            "created": _timestamp(row.created_at),
            "lastModified": _timestamp(row.updated_at),
            "version": f'W/"{row.version}"',
        },
    }
    if row.external_id:
        document["externalId"] = row.external_id
    if "active" in row.attributes:
        document["active"] = user.is_active
    return UserResource.model_validate(document)


def profile_of(resource: Resource[Any]) -> Profile:
    """What a validated SCIM User says, in the words of the provisioning services."""
    person = cast(User, resource)  # the only resource type served
    document = person.model_dump()
    attributes = {key: value for key, value in document.items() if key not in OWN_ATTRIBUTES}
    address = person.user_name or ""
    return Profile(
        address=address,
        name=_display_name(person, address),
        active=person.active,
        external_id=person.external_id or "",
        emails=tuple(
            Email(
                value=str(email.value),
                type=str(getattr(email.type, "value", email.type) or ""),
                primary=bool(email.primary),
            )
            for email in person.emails or ()
            if email.value
        ),
        attributes=attributes,
    )


def _display_name(resource: Any, address: str) -> str:
    name = resource.name
    parts = [name.given_name, name.family_name] if name else []
    return (
        resource.display_name
        or (name.formatted if name else None)
        or " ".join(part for part in parts if part)
        or address.partition("@")[0]
    ).strip()


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# Filters. Values of attributes that are not case-exact (userName, emails.value) are stored
# lowercased and compared lowercased; externalId is case-exact.
CONTAINS = {
    CompareOperator.co: "contains",
    CompareOperator.sw: "startswith",
    CompareOperator.ew: "endswith",
}
SUPPORTED = gettext_lazy(
    "Filters may name userName, externalId, emails (value, type, primary) and active."
)


class _Condition(FilterVisitor[Q]):
    """A SCIM filter as a condition on provisioned users."""

    def visit_logical_expr(self, node: LogicalExpr) -> Q:
        terms = [self.visit(term) for term in node.terms]
        condition = terms[0]
        for term in terms[1:]:
            condition = condition & term if node.op == LogicalOperator.and_ else condition | term
        return condition

    def visit_not(self, node: Not) -> Q:
        return ~self.visit(node.expr)

    def visit_present(self, node: Present) -> Q:
        attribute, sub_attribute = _attribute(node.attr_path)
        if attribute in ("username", "active") and sub_attribute is None:
            return Q()
        if attribute == "externalid" and sub_attribute is None:
            return ~Q(external_id="")
        if attribute == "emails":
            return Q(Exists(_emails()))
        raise _unsupported(node.attr_path)

    def visit_comparison(self, node: Comparison) -> Q:
        attribute, sub_attribute = _attribute(node.attr_path)
        if attribute == "username" and sub_attribute is None:
            # Contains and starts-with are written case-insensitively: the people list's
            # trigram index on the addresses serves that form.
            return _compare("user__email", node, lowercased=True, search_insensitively=True)
        if attribute == "externalid" and sub_attribute is None:
            return _compare("external_id", node, case_exact=True)
        if attribute == "active" and sub_attribute is None:
            return _compare_boolean("user__is_active", node)
        if attribute == "emails":
            return Q(Exists(_emails().filter(_email_comparison(sub_attribute or "value", node))))
        raise _unsupported(node.attr_path)

    def visit_value_path(self, node: ValuePath) -> Q:
        if _attribute(node.attr_path) != ("emails", None):
            raise _unsupported(node.attr_path)
        return Q(Exists(_emails().filter(_EmailCondition().visit(node.val_filter))))


class _EmailCondition(_Condition):
    """The filter inside `emails[...]`, on one address of a provisioned user."""

    def visit_present(self, node: Present) -> Q:
        name = node.attr_path.attr.lower()
        if name == "primary":
            return Q()
        return ~Q(**{_email_field(name, node.attr_path): ""})

    def visit_comparison(self, node: Comparison) -> Q:
        return _email_comparison(node.attr_path.attr.lower(), node)

    def visit_value_path(self, node: ValuePath) -> Q:
        raise _unsupported(node.attr_path)


def _emails() -> QuerySet[ProvisionedEmail]:
    return ProvisionedEmail.objects.filter(resource=OuterRef("pk"))


def _email_comparison(name: str, node: Comparison) -> Q:
    if name == "primary":
        return _compare_boolean("primary", node)
    return _compare(_email_field(name, node.attr_path), node, lowercased=name == "value")


def _email_field(name: str, path: AttrPath) -> str:
    if name not in ("value", "type"):
        raise _unsupported(path)
    return name


def _attribute(path: AttrPath) -> tuple[str, str | None]:
    if path.uri and path.uri.lower() != CORE_USER_SCHEMA.lower():
        raise _unsupported(path)
    return path.attr.lower(), path.sub_attr.lower() if path.sub_attr else None


def _compare(
    field: str,
    node: Comparison,
    *,
    case_exact: bool = False,
    lowercased: bool = False,
    search_insensitively: bool = False,
) -> Q:
    if not isinstance(node.value, str):
        raise InvalidFilterException(
            detail=_("%(attribute)s is compared with a string.") % {"attribute": node.attr_path}
        )
    value = node.value.lower() if lowercased else node.value
    exact = case_exact or lowercased
    if node.op in (CompareOperator.eq, CompareOperator.ne):
        condition = Q(**{field if exact else f"{field}__iexact": value})
        return ~condition if node.op == CompareOperator.ne else condition
    if node.op in CONTAINS:
        insensitive = "" if exact and not search_insensitively else "i"
        return Q(**{f"{field}__{insensitive}{CONTAINS[node.op]}": value})
    raise InvalidFilterException(
        detail=_("%(attribute)s cannot be ordered: use eq, ne, co, sw, ew or pr.")
        % {"attribute": node.attr_path}
    )


def _compare_boolean(field: str, node: Comparison) -> Q:
    if node.op not in (CompareOperator.eq, CompareOperator.ne) or not isinstance(node.value, bool):
        raise InvalidFilterException(
            detail=_("%(attribute)s is compared with eq or ne and true or false.")
            % {"attribute": node.attr_path}
        )
    condition = Q(**{field: node.value})
    return ~condition if node.op == CompareOperator.ne else condition


def _unsupported(path: AttrPath) -> SCIMException:
    return InvalidFilterException(
        detail=_("Filtering on %(attribute)s is not supported. %(supported)s")
        % {"attribute": path, "supported": SUPPORTED}
    )
