"""Writes of licensing, one module per concern: the catalogue (plans in Stripe), the purchase
that makes a tenant managed, Stripe's webhooks, and the seats of a managed tenant."""
