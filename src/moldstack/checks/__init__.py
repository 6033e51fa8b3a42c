"""Checks on a built model: the claim chart (:mod:`~moldstack.checks.claims`).

Each check reads a :class:`~moldstack.geometry.model.Model` and returns a frozen result with ``to_dict()``;
the modules load on demand, so importing this package pulls in none of them.
"""
