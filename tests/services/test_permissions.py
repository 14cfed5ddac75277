"""The one table of roles: every permission in it, and a caller checked against it."""

import pytest

from citywatch.domain.lifecycle import Action
from citywatch.services.permissions import LEAST_ROLE, ActionRefused, Caller, Task, permit
from citywatch.storage.users import Principal, Role


def test_the_table_names_every_action_and_task_once() -> None:
    assert set(LEAST_ROLE) == set(Action) | set(Task)
    assert not {a.value for a in Action} & {t.value for t in Task}  # one key never stands for two


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Task.VIEW}),
        (Role.OPERATOR, {Task.VIEW, Action.ACKNOWLEDGE, Action.NOTE}),
        (Role.SUPERVISOR, {Task.VIEW, Action.NOTE, Action.LOCK, Action.REOPEN}),
        (Role.ADMIN, {Task.VIEW, Action.REOPEN, Task.EDIT_ZONES, Task.MANAGE_USERS, Task.READ_AUDIT}),
    ],
)
def test_a_caller_may_what_its_role_allows(role: Role, allowed: set[Action | Task]) -> None:
    caller = Caller(Principal("somchai", role), "cws_x", "api")
    for permission in allowed:
        assert permit(caller, permission) == caller.principal
    for permission in set(LEAST_ROLE) - allowed:
        if not role.allows(LEAST_ROLE[permission]):
            with pytest.raises(ActionRefused, match=f"needs the {LEAST_ROLE[permission].value} role"):
                permit(caller, permission)
