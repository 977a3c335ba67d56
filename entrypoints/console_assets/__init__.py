"""The operator console's page, scripts and stylesheet (served by `entrypoints.console`)."""
