"""Dead letters over the API: what the notifiers gave up on, newest first, for admins."""

from api_support import Api

from citywatch.notifiers.dead_letters import DeadLetters
from citywatch.notifiers.delivery import Message
from citywatch.storage.users import Role


def test_admins_list_dead_letters_newest_first(api: Api) -> None:
    admin = api.headers(Role.ADMIN)
    assert api.client.get("/api/notifications/dead-letters", headers=admin).json() == []

    letters = DeadLetters(api.store.engine)
    hook = Message("command-centre", "k1", "https://cc.example/hook", {"event": "incident"}, "abc")
    letters.record(hook, 5, "HTTP 503")
    letters.record(Message("mqtt", "k2", "citywatch/storage/fire/cam01", {"id": "def"}), 1, "shutdown")

    listed = api.client.get("/api/notifications/dead-letters", headers=admin).json()
    assert [(d["channel"], d["message_key"], d["attempts"], d["last_error"]) for d in listed] == [
        ("mqtt", "k2", 1, "shutdown"),
        ("command-centre", "k1", 5, "HTTP 503"),
    ]
    assert listed[1] | {"id": 0, "created_at": None} == {
        "id": 0,
        "channel": "command-centre",
        "message_key": "k1",
        "target": "https://cc.example/hook",
        "incident_id": "abc",
        "payload": {"event": "incident"},
        "attempts": 5,
        "last_error": "HTTP 503",
        "created_at": None,
    }
    limited = api.client.get("/api/notifications/dead-letters", params={"limit": 1}, headers=admin)
    assert [d["message_key"] for d in limited.json()] == ["k2"]
    supervisor = api.client.get("/api/notifications/dead-letters", headers=api.headers(Role.SUPERVISOR))
    assert supervisor.status_code == 403
