"""Matching: recommendations, outcome statistics and default assignment."""
