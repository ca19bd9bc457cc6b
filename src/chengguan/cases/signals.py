"""`case_changed`: sent inside the operation's transaction after its event is written.

Receivers (evaluation facts, notifications) keep their own tables in step with the case; an
exception in a receiver rolls the whole operation back, so nothing is half-stored.
Arguments: `case` (the Case row as updated), `event` (the Event just written).
"""

from django.dispatch import Signal

case_changed = Signal()
