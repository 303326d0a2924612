"""Services as real processes, for tests that kill them."""

from kit.processes import UvicornProcess as ServiceProcess

__all__ = ["ServiceProcess"]
