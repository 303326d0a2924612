"""Seteli's backend services. A service never imports another service."""
