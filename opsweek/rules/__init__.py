"""The rules of SPEC.md, one module per rule, each with its Python predicate and the SQL
condition it compiles to side by side:

===========================  ==================================================
rule                         module
===========================  ==================================================
overdue handoff              :mod:`opsweek.rules.overdue`
escalation path, due, tiers  :mod:`opsweek.rules.escalation`
stuck item, with reasons     :mod:`opsweek.rules.stuck`
ownership gap                :mod:`opsweek.rules.gaps` (covers: :mod:`~.availability`)
receivers can accept         :mod:`opsweek.rules.receivers`
system audit, five layers    :mod:`opsweek.rules.audit_layers` (triggers: :mod:`~.triggers`)
what-if pressure test        :mod:`opsweek.rules.whatif`
bottleneck of a workflow     :mod:`opsweek.rules.bottleneck`
attention summary            :mod:`opsweek.rules.attention`
what is waiting on a person  :mod:`opsweek.rules.waiting`
open / overdue actions       :mod:`opsweek.rules.actions`
===========================  ==================================================

The names below are the rules' public surface (``rules.stuck_reasons``), loaded on first
use so that ``opsweek mine`` imports only the modules it needs; the SQL halves are reached
through their modules (``rules.stuck.sql``). Standard library only.
"""

from __future__ import annotations

from importlib import import_module

# public name -> the module of this package that defines it
_HOMES = {
    "DEFAULT_SETTINGS": "common", "OPEN_STATUSES": "common", "setting": "common",
    "handoff_due_at": "overdue", "is_overdue": "overdue", "lateness": "overdue", "overdue_handoffs": "overdue",
    "escalation_due": "escalation", "handoff_escalation": "escalation", "item_escalation": "escalation",
    "handoff_next": "escalation", "item_next": "escalation", "item_escalation_due": "escalation",
    "Reason": "stuck", "stuck_items": "stuck", "stuck_reasons": "stuck",
    "available": "availability", "cover_for": "availability", "is_away": "availability",
    "owner_problem": "availability",
    "Gap": "gaps", "ownership_gaps": "gaps",
    "LAYERS": "audit_layers", "RHYTHM_DAYS": "audit_layers", "AuditResult": "audit_layers",
    "Finding": "audit_layers", "audit": "audit_layers", "audit_workflow": "audit_layers",
    "Breach": "whatif", "LostOwner": "whatif", "WhatIf": "whatif", "what_if": "whatif",
}
_MODULES = ("actions", "attention", "audit_layers", "availability", "bottleneck", "common", "escalation",
            "gaps", "overdue", "receivers", "stuck", "triggers", "waiting", "whatif")

__all__ = sorted([*_HOMES, *_MODULES])


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(import_module(f"opsweek.rules.{_HOMES[name]}"), name)
    elif name in _MODULES:
        value = import_module(f"opsweek.rules.{name}")
    else:
        raise AttributeError(f"module 'opsweek.rules' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__
