"""nbval: sanitise JSON outputs (collab's MIME payloads) like text before comparing them.

nbval rewrites only text outputs with the patterns in ``nbval-sanitize.cfg``; a JSON payload
(``application/vnd.collab.job+json`` holds a job id, for instance) is compared as a whole.
Here it is turned into canonical JSON text first, so the same patterns apply to it.
"""

import json

import nbval.plugin

_sanitize_text = nbval.plugin.IPyNbCell.sanitize


def _sanitize(self, value):
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, indent=1)
    return _sanitize_text(self, value)


nbval.plugin.IPyNbCell.sanitize = _sanitize
