"""What the REST routes and the dashboard's pages both call: each service takes the caller (the
credential its request or page holds), checks it against the one table of roles
(`permissions.LEAST_ROLE`), does the work through the store, writes the audit row and publishes."""
