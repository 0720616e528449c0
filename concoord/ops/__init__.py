"""Operating an instance: Prometheus metrics (metrics.py), the live web dashboard
(dashboard.py), systemd units (systemd.py)."""
