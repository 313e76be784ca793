"""Count the HTTP requests a process makes, for benchmarks (not imported in normal runs).

A benchmark puts this directory on PYTHONPATH and sets PRIVATECLOUD_API_LOG to a file; every
Python process of the run (the program, the dynamic-provider host) then appends one line per HTTP
request to that file: `<pid> <method> <host:port><path> [<what>]`, `<what>` being the CloudStack
command of the query string or the XML-RPC method (XAPI) when there is one. Every backend client here (requests,
keystoneauth, xmlrpc.client, cs) goes through http.client, so nothing escapes the count.
"""

import http.client
import os
import re

_log = os.environ.get("PRIVATECLOUD_API_LOG")

if _log is not None:
    _path: str = _log
    _original = http.client.HTTPConnection.putrequest

    _command = re.compile(r"[?&]command=([A-Za-z]+)")
    _xmlrpc = re.compile(rb"<methodName>([^<]+)</methodName>")

    def _write(line: str, what: str) -> None:
        with open(_path, "a") as f:
            f.write(f"{line} {what}\n")

    def _counting_putrequest(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        pending = getattr(self, "_apicount_line", None)
        if pending is not None:  # the previous POST had no body
            _write(pending, "")
        found = _command.search(url)
        line = f"{os.getpid()} {method} {self.host}:{self.port}{url.split('?')[0]}"
        self._apicount_line = None
        if found or method != "POST":
            _write(line, found.group(1) if found else "")
        else:
            self._apicount_line = line  # its XML-RPC method (or CloudStack command) is in the body
        return _original(self, method, url, *args, **kwargs)

    _original_send = http.client.HTTPConnection.send

    def _counting_send(self, data):  # type: ignore[no-untyped-def]
        line = getattr(self, "_apicount_line", None)
        if line is not None:
            body = data if isinstance(data, bytes) else str(data).encode()
            if not (body.startswith(b"POST ") and body.endswith(b"\r\n\r\n")):  # not the headers
                found = _xmlrpc.search(body) or re.search(rb"command=([A-Za-z]+)", body)
                _write(line, found.group(1).decode() if found else "")
                self._apicount_line = None
        return _original_send(self, data)

    http.client.HTTPConnection.putrequest = _counting_putrequest  # type: ignore[method-assign]
    http.client.HTTPConnection.send = _counting_send  # type: ignore[method-assign]
