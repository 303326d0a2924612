"""Who may see and do what in the registry: every such rule is here, called by the use cases
(and, for a 404 before the body is read, by the routers' dependencies).

Everyone sees approved accreditations and visible offerings; a provider's staff see and act on
everything of their own provider and nothing of another (it does not exist for them: 404); a
region admin sees everything in their region and decides only there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contracts.principal import Auth, Principal, Role
from kit.errors import Forbidden, NotFound
from services.registry.domain.accreditation import CHOOSABLE, AccreditationState, choosable
from services.registry.models import Accreditation, Offering


def is_own_provider(viewer: Principal | None, provider_id: str) -> bool:
    return (viewer is not None and viewer.role is Role.provider
            and viewer.provider_id == provider_id)


def ensure_own_provider(principal: Principal, provider_id: str) -> None:
    """Provider staff act only on their own provider; for anyone else it does not exist."""
    if not is_own_provider(principal, provider_id):
        raise NotFound("no such provider")


def ensure_may_manage_keys(principal: Principal) -> None:
    """API keys are created and revoked by a person of the provider's staff, never by an API
    key: a leaked key must not be able to give itself lasting access."""
    if principal.auth is Auth.api_key:
        raise Forbidden("API keys are managed by the provider's staff in a session, not by "
                        "an API key")


def staff_provider_id(principal: Principal) -> str:
    """The provider whose offerings the caller manages: only a provider's staff or systems."""
    if principal.role is not Role.provider or not principal.provider_id:
        raise Forbidden("only a provider's staff or systems manage its offerings")
    return principal.provider_id


def is_admin_of(viewer: Principal | None, region: str) -> bool:
    return viewer is not None and viewer.role is Role.region_admin and viewer.region == region


def ensure_admin_of(principal: Principal, region: str) -> None:
    if not is_admin_of(principal, region):
        raise Forbidden("only an admin of this region decides its accreditations")


def visible_accreditation(a: Accreditation, viewer: Principal | None) -> bool:
    """Everyone sees approved accreditations; the provider itself sees all of its own; a
    region admin sees every accreditation in their region."""
    return (choosable(AccreditationState(a.state)) or is_own_provider(viewer, a.provider_id)
            or is_admin_of(viewer, a.region_code))


def visible_accreditations(viewer: Principal | None,
                           accreditations: Iterable[Accreditation]) -> list[Accreditation]:
    return [a for a in accreditations if visible_accreditation(a, viewer)]


def can_see_offering(o: Offering, viewer: Principal | None) -> bool:
    """The public sees visible offerings; the provider all of its own; a region admin every
    offering in the region."""
    return o.visible or is_own_provider(viewer, o.provider_id) or is_admin_of(viewer,
                                                                              o.region_code)


@dataclass(frozen=True)
class OfferingScope:
    """Which offerings a search may return: ``include_hidden`` adds hidden and withdrawn ones
    (within ``provider_id`` or ``region``) for callers entitled to see them."""

    provider_id: str | None
    region: str | None
    include_hidden: bool


def offering_scope(viewer: Principal | None, *, visibility: str, provider_id: str | None,
                   region: str | None) -> OfferingScope:
    """``visibility=all`` (hidden and withdrawn offerings too) is for the provider's own staff,
    over its own offerings, and for a region admin, over the region's offerings."""
    if visibility == "public":
        return OfferingScope(provider_id, region, include_hidden=False)
    if viewer is not None and viewer.role is Role.provider and viewer.provider_id:
        if provider_id not in (None, viewer.provider_id):
            raise Forbidden("visibility=all covers only your own offerings")
        return OfferingScope(viewer.provider_id, region, include_hidden=True)
    if viewer is not None and viewer.role is Role.region_admin and viewer.region:
        if region not in (None, viewer.region):
            raise Forbidden("visibility=all covers only your own region")
        return OfferingScope(provider_id, viewer.region, include_hidden=True)
    raise Forbidden("visibility=all is for a provider's staff and region admins")


@dataclass(frozen=True)
class ProviderListScope:
    region: str | None
    states: Sequence[str]


def provider_list_scope(viewer: Principal | None, *, region: str | None,
                        states: Sequence[AccreditationState] | None) -> ProviderListScope:
    """The public register lists choosable (approved) providers; a region admin may list its
    own region's providers in any state (``state=applied``: the applications to decide)."""
    public = sorted(s.value for s in CHOOSABLE)
    wanted = sorted({s.value for s in states}) if states else public
    if wanted == public:
        return ProviderListScope(region, wanted)
    if viewer is None or viewer.role is not Role.region_admin:
        raise Forbidden("only region admins list providers that are not approved")
    if region and region != viewer.region:
        raise Forbidden("you may list only your own region's applications")
    return ProviderListScope(viewer.region, wanted)


def history_region(viewer: Principal, provider_id: str) -> str | None:
    """Whose entries of a provider's history the viewer reads: the provider all of its own
    (None: every region), a region admin those of its region; anyone else: no such provider."""
    if is_own_provider(viewer, provider_id):
        return None
    if viewer.role is Role.region_admin:
        return viewer.region
    raise NotFound("no such provider")
