from django.urls import path

from bench import consumers

websocket_urlpatterns = [
    path("ws", consumers.EchoConsumer.as_asgi()),
    path("ws/room", consumers.RoomConsumer.as_asgi()),
]
