"""The transport: everything collab sends between a scientist and a lake, and the only
package that talks to PySyft (so another transport can replace it).

- ``_owner``: a lake's PySyft Datasite, held by its owner (in-process or served).
- ``_session``: a scientist's logged-in PySyft session on one lake.
- ``_quiet``: PySyft's output kept quiet, its failures turned into collab's errors, and the
  libraries' output diverted to a file on the command line.
- ``_request_code``: the only code a lake runs for a scientist, and how a lake recognises it.
- ``_channel``: the round channel that carries a job's messages after its first exchange.
"""

from ._channel import (
    PROCESS_ID,
    ChannelLost,
    RoundChannel,
    Ticket,
    add_route,
    new_token,
    open_channel,
    serve_in_process,
)
from ._owner import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    CodeRequest,
    Datasite,
    run_served_datasite,
    served_identity,
    signing_key,
)
from ._request_code import function_name, recognise, render
from ._session import ScientistSession

__all__ = [
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "PROCESS_ID",
    "ChannelLost",
    "CodeRequest",
    "Datasite",
    "RoundChannel",
    "ScientistSession",
    "Ticket",
    "add_route",
    "function_name",
    "new_token",
    "open_channel",
    "recognise",
    "render",
    "run_served_datasite",
    "serve_in_process",
    "served_identity",
    "signing_key",
]
