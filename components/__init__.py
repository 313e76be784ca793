"""The region's layers as Pulumi components, composed by `region.Region`."""
