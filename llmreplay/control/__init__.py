"""The control plane: live configuration and the admin API that changes it at run time."""
