"""HTTP pieces both sides share: problem+json errors, bearer-token auth, request context."""
