"""Batch jobs on Ray: encoding texts without a stored vector, scoring every need against the offerings."""
