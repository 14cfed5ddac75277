"""The live hub: messages from pipeline threads to asyncio subscribers."""

import asyncio
import contextlib
import threading

from notifier_services import incident

from citywatch.config import NotificationSettings
from citywatch.notifiers.dispatcher import Notifier
from citywatch.notifiers.live import LiveHub
from citywatch.video.state import CameraState, StateChange


def _state(camera_id: str, current: CameraState) -> StateChange:
    return StateChange(camera_id, CameraState.CONNECTING, current, 1.0, "test")


def test_notifier_feeds_incidents_and_states_from_other_threads() -> None:
    hub = LiveHub()
    notifier = Notifier(NotificationSettings(), [], hub=hub)
    notifier.start()
    notifier.on_state_change(_state("cam01", CameraState.STREAMING))  # before anyone listens
    fire = incident()

    async def main() -> list[dict]:
        got = []
        async with contextlib.aclosing(hub.subscribe()) as messages:
            got.append(await anext(messages))  # the current state of every camera first
            threading.Thread(target=notifier.on_incident, args=(fire,)).start()
            got.append(await asyncio.wait_for(anext(messages), 5))
            threading.Thread(
                target=notifier.on_state_change, args=(_state("cam01", CameraState.OFFLINE),)
            ).start()
            got.append(await asyncio.wait_for(anext(messages), 5))
        assert hub.subscribers == 0  # closing the iterator unsubscribes
        return got

    got = asyncio.run(main())
    notifier.stop()
    assert [(m["event"], m["data"].get("state")) for m in got] == [
        ("camera_state", "streaming"),
        ("incident", None),
        ("camera_state", "offline"),
    ]
    assert got[1]["data"]["id"] == fire.id


def test_a_slow_client_loses_its_oldest_messages_and_never_blocks_publish() -> None:
    hub = LiveHub(queue_size=3)

    async def main() -> list[int]:
        async with contextlib.aclosing(hub.subscribe()) as messages:
            first = asyncio.ensure_future(anext(messages))
            await asyncio.sleep(0)  # subscribed, waiting for a message
            hub.publish({"event": "incident", "data": {"n": 0}})
            got = [(await first)["data"]["n"]]

            def flood() -> None:
                for n in range(1, 100):
                    hub.publish({"event": "incident", "data": {"n": n}})

            await asyncio.to_thread(flood)  # no read waits meanwhile: a slow client
            while len(got) < 4:
                got.append((await asyncio.wait_for(anext(messages), 5))["data"]["n"])
            return got

    assert asyncio.run(main()) == [0, 97, 98, 99]  # 1 to 96 were dropped, oldest first


def test_publish_survives_a_subscriber_whose_loop_is_gone() -> None:
    hub = LiveHub()

    async def subscribe_and_leave() -> None:
        messages = hub.subscribe()
        task = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0)
        task.cancel()  # the generator is left unclosed, as after a crash

    asyncio.run(subscribe_and_leave())
    hub.publish({"event": "incident", "data": {}})
    assert hub.subscribers == 0
