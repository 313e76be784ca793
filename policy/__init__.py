"""The region's policy pack (`pulumi preview --policy-pack policy`): rules in `rules.py`, wiring in `pack.py`."""
