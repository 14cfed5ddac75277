"""Outgoing and live alerts: MQTT, signed webhooks, LINE push, and the WebSocket hub.

`build_notifier` (in `dispatcher`) makes the `Notifier` the Supervisor subscribes to the event
sink and to camera state changes. This module imports nothing itself, so the migrations can import
`citywatch.notifiers.schema` without pulling in paho or httpx.
"""
