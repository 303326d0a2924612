"""Pure rules of vouchers, budgets and claims: no I/O."""
