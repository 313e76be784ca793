"""Count the HTTP requests a process makes, for benchmarks (not imported in normal runs).

A benchmark puts this directory on PYTHONPATH and sets PRIVATECLOUD_API_LOG to a file; every
Python process of the run (the program, the dynamic-provider host) then appends one line per HTTP
request to that file: `<pid> <method> <host:port><path>`. Every backend client here (requests,
keystoneauth, xmlrpc.client, cs) goes through http.client, so nothing escapes the count.
"""

import http.client
import os

_log = os.environ.get("PRIVATECLOUD_API_LOG")

if _log is not None:
    _path: str = _log
    _original = http.client.HTTPConnection.putrequest

    def _counting_putrequest(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        with open(_path, "a") as f:
            f.write(f"{os.getpid()} {method} {self.host}:{self.port}{url.split('?')[0]}\n")
        return _original(self, method, url, *args, **kwargs)

    http.client.HTTPConnection.putrequest = _counting_putrequest  # type: ignore[method-assign]
