"""The facilitator's pages: its home (demonstration days and engagements will join it)."""
