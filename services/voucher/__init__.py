"""Voucher: budgets, vouchers, choices, claims and payments. The source of truth for money."""
