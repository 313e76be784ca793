"""The core the lab's API emulators share (lab.xapi, lab.cloudstack), as moto/core is to moto's.

- `server.py`: a threaded HTTP server on 127.0.0.1 (port 0 by default) in a background thread,
  and the request-handler base (send an answer, drop the connection);
- `registry.py`: the handler registry, API name -> handler, each name checked against the API's
  reference when it is registered;
- `errors.py`: the error base, an error carries the API's own code, checked against its table;
- `faults.py`: faults on demand (latency, error, failed job or task, dropped connection), matched
  by call name and host, counted;
- `clock.py`: the test-controlled clock, virtual seconds that advance when the test says (or with
  the wall clock, for daemons and signed requests);
- `daemon.py`: readiness, a daemon writes its info file once it listens and the lab waits for
  that file (`procs.wait_for_file`).

An emulator keeps moto's split on top of it: models (state and rules), responses (parse, call,
serialise), routes (the server's paths) and errors carrying the API's codes.
"""
