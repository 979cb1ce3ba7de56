"""Scheduling generations on provider nodes: per-node capacity, per-user queues served in turn."""
