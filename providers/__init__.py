"""Pulumi dynamic providers for the four backends of a region.

One module per backend (`ironic`, `ceph`, `xcpng`, `cloudstack`), read as `ironic.Node`,
`ceph.Pool`, `cloudstack.Zone`; `_core` holds what they share: the field table and its pure diff,
the error taxonomy and the bounded wait. Importing any of them has no side effects.
"""
