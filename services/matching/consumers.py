"""Event handlers of the matching service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer`: it must only write through the session it is given."""

from __future__ import annotations

from collections.abc import Sequence

from kit.consumer import Consumer
from kit.registry_replica import RegistryReplica
from kit.runtime import Runtime
from services.matching.models import AccreditationView, ProviderView

REGISTRY = RegistryReplica(ProviderView, AccreditationView)


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return [rt.consumer("matching-from-registry", stream="REGISTRY",
                        handlers=REGISTRY.handlers())]
