"""Contest sites: one module per site, the shared HTTP client, ingest and the fetch task."""
