"""Registry: providers, per-region accreditation, offerings and the service-type catalogue."""
