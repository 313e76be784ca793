"""The local lab: the four backends of a region on 127.0.0.1.

Ironic and Ceph are the real services; XCP-ng (XAPI) and CloudStack are emulators of their
APIs. `python -m lab up|down|status|env` drives them all; each piece can be started alone.
"""
