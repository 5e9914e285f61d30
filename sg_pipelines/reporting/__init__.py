"""Delivering published report snapshots to partners: the optional SFTP push (`sftp_push.py`)."""
