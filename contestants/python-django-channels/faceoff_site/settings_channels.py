"""python-django-channels: the shared Django settings plus Channels (ASGI, WebSockets)."""

from faceoff_site.settings import *  # noqa: F401,F403
from faceoff_site.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS[:-1], "channels", INSTALLED_APPS[-1]]

ASGI_APPLICATION = "faceoff_site.asgi.application"

# In-process channel layer: /ws/room reaches the connections of this worker process only.
# A larger capacity than the default 100 so a burst of broadcasts is not dropped.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"capacity": 1000},
    }
}
