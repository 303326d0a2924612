"""The web pages of the gateway: server-rendered, in Finnish, Swedish and English, working
without JavaScript, and clients of the public API with the signed-in person's principal.
See ``gateway/web/app.py`` for how a page is added."""

from gateway.web.app import mount

__all__ = ["mount"]
