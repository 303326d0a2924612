"""Pure rules of matching: eligibility and score, outcome statistics, default assignment."""
