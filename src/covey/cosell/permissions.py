"""Who may change what in co-selling (reading is ``visible_to`` on each model).

Vendor writers are the CRM editors (admin, partner manager, sales rep); partner writers are the
admins and reps of the engagement's own partner. Finance, executives and read-only partner users
see the deal room but change nothing.
"""

from __future__ import annotations

from covey.core.access import can_edit_crm, is_admin, writes_for_partner
from covey.cosell.models import Side


def can_write_engagement(user, engagement) -> bool:
    """Notes, meeting records, questions, the deal team: both sides' writers."""
    return can_edit_crm(user) or writes_for_partner(user, engagement.partner_id)


def can_change_model(user, engagement) -> bool:
    """The engagement model decides who leads the vendor's sale: the vendor's sellers change it."""
    return can_edit_crm(user)


def can_start_engagement(user) -> bool:
    return can_edit_crm(user)


def can_answer(user, question) -> bool:
    """The side a question was put to answers it."""
    if question.to_side == Side.VENDOR:
        return can_edit_crm(user)
    return writes_for_partner(user, question.engagement.partner_id)


def can_remove_member(user, member) -> bool:
    """Vendor writers manage the whole team; a partner writer its own side of it."""
    if can_edit_crm(user):
        return True
    return member.side == Side.PARTNER and writes_for_partner(user, member.engagement.partner_id)


def can_work_escalation(user, escalation) -> bool:
    """Take ownership, move along, resolve: vendor writers, and the writers of the partner it was
    raised for. (One that names no partner may be on a deal with several; a partner's person owning
    it would show the others who else is on the deal.)"""
    return can_edit_crm(user) or (escalation.partner_id is not None and writes_for_partner(user, escalation.partner_id))


def can_edit_rules(user) -> bool:
    return is_admin(user)
